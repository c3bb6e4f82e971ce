package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.ssh.SshKeyPair;
import io.pgtrail.ssh.SshTunnelSettings;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.testing.TestSshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The worker reaches its source through an SSH jump host and survives the jump host restarting. */
class WorkerThroughTunnelTest {
  @Test
  void recordsThroughTheJumpHostAndLosesNothingWhenItRestarts() throws Exception {
    LocalPostgres server = TestPostgres.shared(PgVersion.primary());
    ConnectionSettings source = TestPostgres.newDatabase(server, "src_ssh");
    server.execute(source.database(),
        "CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamptz)",
        "ALTER TABLE orders REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE orders");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst_ssh");
    SshKeyPair key = SshKeyPair.generate(SshKeyPair.comment("apps", "shop"));

    try (TestSshServer jump = TestSshServer.start().authorize(key.publicKeyLine())) {
      SshTunnelSettings tunnel = new SshTunnelSettings(jump.host(), jump.port(), TestSshServer.USER,
          key.privateKeyText(), null, jump.hostKeyFingerprint(), null);
      try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 50,
          tunnel)) {
        int forwardedAtStart = jump.forwardedConnections();
        assertThat(forwardedAtStart).as("catalog and replication connections go through the jump host")
            .isGreaterThanOrEqualTo(2);
        WorkerTest.insertOrders(server, source, 1, 200);
        h.awaitRecorded(200, Duration.ofSeconds(30));

        jump.stop();
        WorkerTest.insertOrders(server, source, 201, 300);
        jump.restart();
        WorkerTest.insertOrders(server, source, 301, 400);

        h.awaitRecorded(400, Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(20)).until(() -> h.metrics.reconnects.get() >= 1);
        assertThat(jump.forwardedConnections()).isGreaterThan(forwardedAtStart);
        WorkerTest.assertExactlyOnce(destination, 400);
      }
    }
  }

  @Test
  void configReadsTheTunnelKeyFromFiles(@TempDir Path dir) throws Exception {
    SshKeyPair key = SshKeyPair.generate("k");
    Path keyFile = dir.resolve("ssh-privatekey");
    Files.writeString(keyFile, key.privateKeyText());
    WorkerConfig config = WorkerConfig.parse("""
        source: { url: "postgresql://app@db.internal:5432/shop" }
        slot: s
        publication: p
        destination: { url: "postgresql://audit@audit:5432/audit" }
        sshTunnel:
          host: bastion.example.com
          user: pgtrail
          privateKeyFile: %s
          hostKeyFingerprint: SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU
        """.formatted(keyFile));

    SshTunnelSettings settings = config.sshTunnelSettings();

    assertThat(settings.host()).isEqualTo("bastion.example.com");
    assertThat(settings.port()).isEqualTo(22);
    assertThat(settings.privateKey()).isEqualTo(key.privateKeyText());
    assertThat(settings.toString()).doesNotContain(key.privateKeyText().lines().skip(1).findFirst().orElseThrow());
  }
}
