package io.pgtrail.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine;

class SshTunnelOptionsTest {
  private static final SshKeyPair CLIENT = SshKeyPair.generate("pgtrail/shop/orders");
  private static final SshKeyPair JUMP = SshKeyPair.generate("");

  @TempDir Path dir;

  @Command(name = "probe")
  static final class Probe {
    @Mixin SshTunnelOptions ssh;
  }

  @Command(name = "runner")
  static final class Runner implements Callable<Integer> {
    @Mixin SshTunnelOptions ssh;

    @Override
    public Integer call() {
      return ssh.settings().isPresent() ? 0 : 1;
    }
  }

  @Test
  void aCommandUsingTheMixinAnswersBadInputAsAUsageError() {
    StringWriter err = new StringWriter();
    CommandLine commandLine = new CommandLine(new Runner()).setErr(new PrintWriter(err));

    int exitCode = commandLine.execute("--ssh-host", "jump", "--ssh-user", "u");

    assertThat(exitCode).isEqualTo(CommandLine.ExitCode.USAGE);
    assertThat(err.toString()).contains("--ssh-host needs --ssh-key-file", "Usage: runner");
  }

  @Test
  void noSshHostMeansNoTunnel() {
    assertThat(parse().settings()).isEmpty();
  }

  @Test
  void allFlagsMakeSettingsWithTheFilesRead() throws Exception {
    Path key = Files.writeString(dir.resolve("id_pgtrail"), CLIENT.privateKeyText());
    Path knownHosts = Files.writeString(dir.resolve("known_hosts"), "[jump.example.com]:2222 " + JUMP.publicKeyLine() + "\n");

    SshTunnelSettings settings = parse("--ssh-host", "jump.example.com", "--ssh-port", "2222",
        "--ssh-user", "pgtrail", "--ssh-key-file", key.toString(), "--ssh-known-hosts-file", knownHosts.toString(),
        "--ssh-host-key-fingerprint", JUMP.fingerprint(), "--ssh-host-key-policy", "acceptNew")
        .settings().orElseThrow();

    assertThat(settings).isEqualTo(new SshTunnelSettings("jump.example.com", 2222, "pgtrail",
        CLIENT.privateKeyText(), "[jump.example.com]:2222 " + JUMP.publicKeyLine() + "\n", JUMP.fingerprint(),
        HostKeyPolicy.ACCEPT_NEW));
  }

  @Test
  void portAndPolicyHaveDefaults() throws Exception {
    Path key = Files.writeString(dir.resolve("id_pgtrail"), CLIENT.privateKeyText());

    SshTunnelSettings settings = parse("--ssh-host", "jump", "--ssh-user", "u", "--ssh-key-file", key.toString())
        .settings().orElseThrow();

    assertThat(settings.port()).isEqualTo(22);
    assertThat(settings.hostKeyPolicy()).isEqualTo(HostKeyPolicy.STRICT);
    assertThat(settings.knownHosts()).isNull();
  }

  @Test
  void incompleteOrUnreadableInputGetsAClearAnswer() throws Exception {
    Path key = Files.writeString(dir.resolve("id_pgtrail"), CLIENT.privateKeyText());
    Path notAKey = Files.writeString(dir.resolve("not_a_key"), "hello");

    assertThatThrownBy(() -> parse("--ssh-user", "u").settings())
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("need --ssh-host");
    assertThatThrownBy(() -> parse("--ssh-host", "jump", "--ssh-key-file", key.toString()).settings())
        .hasMessage("--ssh-host needs --ssh-user");
    assertThatThrownBy(() -> parse("--ssh-host", "jump", "--ssh-user", "u").settings())
        .hasMessageContaining("--ssh-host needs --ssh-key-file");
    assertThatThrownBy(() -> parse("--ssh-host", "jump", "--ssh-user", "u",
        "--ssh-key-file", dir.resolve("missing").toString()).settings())
        .hasMessageContaining("--ssh-key-file " + dir.resolve("missing") + " cannot be read");
    assertThatThrownBy(() -> parse("--ssh-host", "jump", "--ssh-user", "u", "--ssh-key-file", notAKey.toString()).settings())
        .hasMessageContaining("--ssh-key-file " + notAKey + ": the SSH private key");
    assertThatThrownBy(() -> parse("--ssh-host", "jump", "--ssh-user", "u", "--ssh-key-file", key.toString(),
        "--ssh-host-key-fingerprint", "MD5:00").settings())
        .hasMessageContaining("is not a SHA256 fingerprint");
    assertThatThrownBy(() -> parse("--ssh-host", "jump", "--ssh-host-key-policy", "yes"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("expected strict or acceptNew");
  }

  @Test
  void settingsMapFromYaml() throws Exception {
    String yaml = """
        host: jump.example.com
        port: 2222
        user: pgtrail
        privateKey: |
        %s
        hostKeyFingerprint: %s
        hostKeyPolicy: acceptNew
        """.formatted(CLIENT.privateKeyText().indent(2).stripTrailing(), JUMP.fingerprint());

    SshTunnelSettings settings = new ObjectMapper(new YAMLFactory()).readValue(yaml, SshTunnelSettings.class);

    assertThat(settings.host()).isEqualTo("jump.example.com");
    assertThat(settings.port()).isEqualTo(2222);
    assertThat(settings.privateKey()).isEqualTo(CLIENT.privateKeyText());
    assertThat(settings.hostKeyPolicy()).isEqualTo(HostKeyPolicy.ACCEPT_NEW);
    assertThat(SshKeyPair.parse(settings.privateKey(), "").fingerprint()).isEqualTo(CLIENT.fingerprint());
  }

  @Test
  void yamlWithoutPortOrPolicyGetsTheDefaults() throws Exception {
    String yaml = "host: jump\nuser: pgtrail\nprivateKey: x\n";

    SshTunnelSettings settings = new ObjectMapper(new YAMLFactory()).readValue(yaml, SshTunnelSettings.class);

    assertThat(settings.port()).isEqualTo(22);
    assertThat(settings.hostKeyPolicy()).isEqualTo(HostKeyPolicy.STRICT);
  }

  @Test
  void settingsNeverShowThePrivateKey() {
    SshTunnelSettings settings = new SshTunnelSettings("jump", 0, "pgtrail", CLIENT.privateKeyText(),
        "jump " + JUMP.publicKeyLine(), null, null);

    assertThat(settings.toString())
        .isEqualTo("SshTunnelSettings[pgtrail@jump:22, privateKey=<redacted>, knownHosts=1 line(s), "
            + "hostKeyFingerprint=null, hostKeyPolicy=strict]");
    assertThat(settings.redacted()).isEqualTo("pgtrail@jump:22");
  }

  @Test
  void settingsRefuseMissingEssentials() {
    assertThatThrownBy(() -> new SshTunnelSettings(" ", 22, "u", "k", null, null, null))
        .hasMessage("the SSH jump host is missing");
    assertThatThrownBy(() -> new SshTunnelSettings("jump", 22, null, "k", null, null, null))
        .hasMessage("the SSH user for jump is missing");
    assertThatThrownBy(() -> new SshTunnelSettings("jump", 22, "u", "", null, null, null))
        .hasMessage("the SSH private key for u@jump is missing");
    assertThatThrownBy(() -> new SshTunnelSettings("jump", 70000, "u", "k", null, null, null))
        .hasMessageContaining("between 1 and 65535");
  }

  private static SshTunnelOptions parse(String... args) {
    Probe probe = new Probe();
    new CommandLine(probe).parseArgs(args);
    return probe.ssh;
  }
}
