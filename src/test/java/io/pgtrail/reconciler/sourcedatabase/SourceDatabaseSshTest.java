package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SshHostKeyPolicySpec;
import io.pgtrail.api.v1alpha1.SshTunnelSpec;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestSshServer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * spec.sshTunnel: the operator generates its key, shows the public key, is refused until the key is
 * authorized, then sets up through the jump host; the worker it renders streams through the jump host too.
 */
class SourceDatabaseSshTest {
  @Test
  void recordsChangesThroughTheJumpHostOnceItsKeyIsAuthorized(@TempDir Path files) throws Exception {
    SourceFixture db = SourceFixture.on(PgVersion.primary(), "ssh");
    try (TestSshServer jump = TestSshServer.start(); OperatorHarness harness = new OperatorHarness().startOperator()) {
      db.createSecrets(harness.cluster);
      harness.apply(SourceFixture.policy("policy", "tunnelled", List.of("orders"), List.of()));
      SourceDatabase source = db.source("tunnelled");
      source.getSpec().sshTunnel = new SshTunnelSpec();
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
      SourceDatabase through = harness.awaitSource("tunnelled", "Ready", "True", "Ready");
      assertThat(condition(through.getStatus().conditions, "Connected").get().getMessage())
          .contains("through " + TestSshServer.USER + "@");
      assertThat(through.getStatus().sshPublicKey).isEqualTo(publicKey);
      assertThat(jump.forwardedConnections()).isPositive();
      assertThat(db.slotExists(db.slotName)).isTrue();

      // The worker, as its pod would run it: the rendered config, the Secret's files, through the jump host.
      int forwardedBeforeWorker = jump.forwardedConnections();
      try (RenderedWorker worker = RenderedWorker.start(harness.client(), "tunnelled", files)) {
        assertThat(worker.config()).contains("sshTunnel:").contains("privateKeyFile: /etc/pgtrail/ssh/id_ed25519");
        db.execute("INSERT INTO public.orders VALUES (1, 10, now()), (2, 20, now())");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).ignoreExceptions()
            .until(() -> db.destinationCount("SELECT count(*) FROM changes WHERE \"table\" = 'orders'") == 2);
        assertThat(jump.forwardedConnections()).isGreaterThan(forwardedBeforeWorker);
      }
      assertThat(harness.logs.text()).doesNotContain(privateKey.strip().lines().skip(1).findFirst().orElseThrow())
          .doesNotContain(db.adminPassword);

      // a stopping operator closes its tunnels: no SSH client thread is left behind
      harness.stopOperator();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("sshd-SshClient")
              || t.getName().startsWith("pgtrail-ssh-reconnect")));
      harness.startOperator();
      harness.awaitSource("tunnelled", "Ready", "True", "Ready");

      // deletion (reclaimPolicy delete) tears down through the jump host too
      int forwardedBeforeDeletion = jump.forwardedConnections();
      harness.client().resource(harness.source("tunnelled")).delete();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
          .until(() -> harness.source("tunnelled") == null);
      assertThat(db.slotExists(db.slotName)).isFalse();
      assertThat(db.strings("SELECT pubname FROM pg_publication")).isEmpty();
      assertThat(jump.forwardedConnections()).isGreaterThan(forwardedBeforeDeletion);
    }
  }

  @Test
  void acceptNewPinsTheFirstJumpHostKeyAndTheRotationAnnotationReplacesTheKeyPair() throws Exception {
    SourceFixture db = SourceFixture.on(PgVersion.primary(), "ssh_tofu");
    try (TestSshServer jump = TestSshServer.start(); OperatorHarness harness = new OperatorHarness().startOperator()) {
      db.createSecrets(harness.cluster);
      harness.apply(SourceFixture.policy("policy", "tofu", List.of("orders"), List.of()));
      SourceDatabase source = db.source("tofu");
      source.getSpec().sshTunnel = new SshTunnelSpec();
      source.getSpec().sshTunnel.host = jump.host();
      source.getSpec().sshTunnel.port = jump.port();
      source.getSpec().sshTunnel.user = TestSshServer.USER;
      source.getSpec().sshTunnel.hostKeyPolicy = SshHostKeyPolicySpec.ACCEPT_NEW;
      harness.apply(source);
      String firstKey = harness.awaitSource("tofu", "Connected", "False", "SshAuthFailed").getStatus().sshPublicKey;
      jump.authorize(firstKey);

      SourceDatabase ready = harness.awaitSource("tofu", "Ready", "True", "Ready");
      assertThat(ready.getStatus().sshHostKeyFingerprint).isEqualTo(jump.hostKeyFingerprint());
      awaitEvent(harness, ready, "SshHostKeyPinned");

      // a patch, not an update: the operator may write the status between a read and a PUT
      harness.client().resources(SourceDatabase.class).inNamespace(ready.getMetadata().getNamespace()).withName("tofu")
          .edit(s -> {
            s.getMetadata().setAnnotations(java.util.Map.of("pgtrail.io/rotate-ssh-key", "2026-11-24"));
            return s;
          });
      SourceDatabase rotated = harness.awaitSource("tofu", "Connected", "False", "SshAuthFailed");
      assertThat(rotated.getStatus().sshPublicKey).isNotEqualTo(firstKey).endsWith("pgtrail/apps/tofu");
      awaitEvent(harness, rotated, "SshKeyRotated");
      jump.authorize(rotated.getStatus().sshPublicKey);
      harness.awaitSource("tofu", "Ready", "True", "Ready");

      jump.stop();
      jump.restartWithNewHostKey();
      harness.awaitSource("tofu", "Connected", "False", "HostKeyMismatch", java.time.Duration.ofSeconds(60));
      // the failed runs keep the pin: a later run must not trust the new key on first use again
      harness.awaitMoreReconciliations(SourceDatabaseReconciler.NAME, 3);
      SourceDatabase stillRefused = harness.source("tofu");
      assertThat(stillRefused.getStatus().sshHostKeyFingerprint).isEqualTo(ready.getStatus().sshHostKeyFingerprint);
      assertThat(stillRefused.getStatus().conditions).anySatisfy(c -> {
        assertThat(c.getType()).isEqualTo("Connected");
        assertThat(c.getReason()).isEqualTo("HostKeyMismatch");
      });

      // the fix the condition names: pin the new key after checking it out of band
      harness.client().resources(SourceDatabase.class).inNamespace(ready.getMetadata().getNamespace()).withName("tofu")
          .edit(s -> {
            s.getSpec().sshTunnel.hostKeyFingerprint = jump.hostKeyFingerprint();
            return s;
          });
      harness.awaitSource("tofu", "Ready", "True", "Ready");

      harness.client().resource(harness.source("tofu")).delete();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> harness.source("tofu") == null);
    }
  }

  /** Events are posted after the status is written: one may still be on its way when the status shows. */
  private static void awaitEvent(OperatorHarness harness, SourceDatabase about, String reason) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(harness.cluster.events(about)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo(reason)));
  }
}
