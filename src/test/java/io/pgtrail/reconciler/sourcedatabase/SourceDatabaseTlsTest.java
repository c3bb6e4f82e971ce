package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.api.v1alpha1.SecretKeyRef;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestCertificates;
import io.pgtrail.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** sslMode verify-full with the CA from a Secret: the right CA connects, another one is refused. */
class SourceDatabaseTlsTest {
  @Test
  void verifyFullUsesTheCaFromTheSecret() throws Exception {
    Path dir = Files.createTempDirectory("pgtrail-tls-");
    var server = TestCertificates.selfSigned(dir, "server", "ip:127.0.0.1");
    var stranger = TestCertificates.selfSigned(dir, "stranger", "ip:127.0.0.1");
    try (LocalPostgres tls = TestPostgres.start(PgVersion.primary(), b -> b.serverConfig("ssl", "on")
            .serverConfig("ssl_cert_file", server.certificateFile().toString())
            .serverConfig("ssl_key_file", server.keyFile().toString()));
        OperatorHarness harness = new OperatorHarness().startOperator()) {
      SourceFixture db = new SourceFixture(tls, "tls");
      db.createSecrets(harness.cluster);
      harness.cluster.createSecret("source-ca", Map.of("ca.crt", server.certificatePem()));
      harness.cluster.createSecret("wrong-ca", Map.of("ca.crt", stranger.certificatePem()));
      harness.apply(SourceFixture.policy("policy", "secure", List.of("orders"), List.of()));
      harness.apply(SourceFixture.policy("policy2", "doubtful", List.of("orders"), List.of()));

      SourceDatabase secure = db.source("secure");
      secure.getSpec().connection.sslMode = SslModeSpec.VERIFY_FULL;
      secure.getSpec().connection.caCertSecretRef = new SecretKeyRef("source-ca", "ca.crt");
      harness.apply(secure);
      SourceDatabase ready = harness.awaitSource("secure", "Ready", "True", "Ready");
      assertThat(condition(ready.getStatus().conditions, "Connected").get().getMessage()).contains("verify-full");
      String yaml = harness.client().configMaps().inNamespace(MockCluster.NAMESPACE).withName("secure-worker-config")
          .get().getData().get("worker.yaml");
      assertThat(yaml).contains("sslmode=verify-full&sslrootcert=/etc/pgtrail/source/ca.crt");

      SourceDatabase doubtful = db.source("doubtful");
      doubtful.getSpec().slotName = db.slotName + "_2";
      doubtful.getSpec().connection.sslMode = SslModeSpec.VERIFY_FULL;
      doubtful.getSpec().connection.caCertSecretRef = new SecretKeyRef("wrong-ca", "ca.crt");
      harness.apply(doubtful);
      SourceDatabase refused = harness.awaitSource("doubtful", "Connected", "False", null);
      assertThat(condition(refused.getStatus().conditions, "Connected").get().getReason())
          .isEqualTo("SslFailed");
      db.dropSlots();
    }
  }
}
