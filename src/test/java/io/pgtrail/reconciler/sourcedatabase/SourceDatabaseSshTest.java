package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SshTunnel;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestSshServer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.sshTunnel: the operator generates its key, shows the public key, is refused until the key is
 * authorized, then connects and preflights through the jump host. The worker cannot tunnel yet, so the
 * source stops there with nothing created in PostgreSQL.
 */
class SourceDatabaseSshTest {
  @Test
  void connectsThroughTheJumpHostOnceItsKeyIsAuthorized() throws Exception {
    SourceFixture db = SourceFixture.on(PgVersion.primary(), "ssh");
    try (TestSshServer jump = TestSshServer.start(); OperatorHarness harness = new OperatorHarness().startOperator()) {
      db.createSecrets(harness.cluster);
      harness.apply(SourceFixture.policy("policy", "tunnelled", List.of("orders"), List.of()));
      SourceDatabase source = db.source("tunnelled");
      source.getSpec().sshTunnel = new SshTunnel();
      source.getSpec().sshTunnel.host = jump.host();
      source.getSpec().sshTunnel.port = jump.port();
      source.getSpec().sshTunnel.user = TestSshServer.USER;
      source.getSpec().sshTunnel.hostKeyFingerprint = jump.hostKeyFingerprint();
      harness.apply(source);

      SourceDatabase refused = harness.awaitSource("tunnelled", "Connected", "False", "SshAuthFailed");
      String publicKey = refused.getStatus().sshPublicKey;
      assertThat(publicKey).startsWith("ssh-ed25519 ").endsWith("pgtrail/apps/tunnelled");
      Secret key = harness.client().secrets().inNamespace(MockCluster.NAMESPACE).withName("tunnelled-ssh-key").get();
      assertThat(key.getType()).isEqualTo("kubernetes.io/ssh-auth");
      assertThat(key.getMetadata().getOwnerReferences()).hasSize(1);
      String privateKey = SecretData.value(key, "ssh-privatekey").orElseThrow();

      jump.authorize(publicKey);
      SourceDatabase through = harness.awaitSource("tunnelled", "PublicationReady", "False", "SshTunnelUnsupported");
      assertThat(condition(through.getStatus().conditions, "Connected").get().getMessage())
          .contains("through " + TestSshServer.USER + "@");
      assertThat(condition(through.getStatus().conditions, "WalLevelLogical").get().getStatus()).isEqualTo("True");
      assertThat(condition(through.getStatus().conditions, "Ready").get().getReason()).isEqualTo("SshTunnelUnsupported");
      assertThat(through.getStatus().sshPublicKey).isEqualTo(publicKey);
      assertThat(jump.forwardedConnections()).isPositive();
      assertThat(db.strings("SELECT pubname FROM pg_publication")).isEmpty();
      assertThat(db.slotExists(db.slotName)).isFalse();
      assertThat(harness.logs.text()).doesNotContain(privateKey.strip().lines().skip(1).findFirst().orElseThrow())
          .doesNotContain(db.adminPassword);

      harness.client().resource(through).delete();
      org.awaitility.Awaitility.await().until(() -> harness.source("tunnelled") == null);
    }
  }
}
