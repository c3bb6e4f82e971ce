package io.pgtrail.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.ssh.SshKeyPair;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.testing.TestSshServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code pgtrail check} reaches the database through the SSH jump host when --ssh-host is given. */
class CheckThroughTunnelTest {
  @Test
  void checksThroughTheJumpHostAndRefusesAWrongHostKey(@TempDir Path dir) throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "check_ssh");
    SshKeyPair key = SshKeyPair.generate(SshKeyPair.comment("cli", "check"));
    Path keyFile = dir.resolve("id_ed25519");
    Files.writeString(keyFile, key.privateKeyText());
    try (TestSshServer jump = TestSshServer.start().authorize(key.publicKeyLine())) {
      String url = "postgresql://postgres@127.0.0.1:" + db.port() + "/" + db.database() + "?sslmode=disable";
      int forwardedBefore = jump.forwardedConnections();

      CliRun ok = CliRun.of("check", "--url", url, "--slot", db.database(), "--publication", db.database(),
          "--ssh-host", jump.host(), "--ssh-port", Integer.toString(jump.port()), "--ssh-user", TestSshServer.USER,
          "--ssh-key-file", keyFile.toString(), "--ssh-host-key-fingerprint", jump.hostKeyFingerprint());

      assertThat(ok.exitCode()).as(ok.out() + ok.err()).isZero();
      assertThat(jump.forwardedConnections()).isGreaterThan(forwardedBefore);

      CliRun mismatch = CliRun.of("check", "--url", url, "--ssh-host", jump.host(), "--ssh-port",
          Integer.toString(jump.port()), "--ssh-user", TestSshServer.USER, "--ssh-key-file", keyFile.toString(),
          "--ssh-host-key-fingerprint", SshKeyPair.generate("").fingerprint(), "--output", "json");

      assertThat(mismatch.exitCode()).isEqualTo(2);
      assertThat(mismatch.out()).contains("\"reason\":\"HostKeyMismatch\"");
      assertThat(mismatch.out() + mismatch.err()).doesNotContain("PRIVATE KEY");
    }
  }
}
