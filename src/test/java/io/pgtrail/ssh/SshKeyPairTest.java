package io.pgtrail.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrail.testing.Prerequisites;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SshKeyPairTest {
  @TempDir Path dir;

  @Test
  void generatesAnEd25519PairWithAnOpenSshPublicKeyLine() {
    SshKeyPair key = SshKeyPair.generate(SshKeyPair.comment("shop", "orders"));

    assertThat(key.keyType()).isEqualTo("ssh-ed25519");
    assertThat(key.publicKeyLine()).matches("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5[A-Za-z0-9+/]+ pgtrail/shop/orders");
    assertThat(key.fingerprint()).matches("SHA256:[A-Za-z0-9+/]{43}");
    assertThat(key.privateKeyText())
        .startsWith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        .endsWith("-----END OPENSSH PRIVATE KEY-----\n");
  }

  @Test
  void twoGeneratedPairsDiffer() {
    assertThat(SshKeyPair.generate("a").fingerprint()).isNotEqualTo(SshKeyPair.generate("a").fingerprint());
  }

  @Test
  void privateKeyTextReadsBackToTheSamePair() {
    SshKeyPair key = SshKeyPair.generate("pgtrail/shop/orders");

    SshKeyPair again = SshKeyPair.parse(key.privateKeyText(), "pgtrail/shop/orders");

    assertThat(again.publicKeyLine()).isEqualTo(key.publicKeyLine());
    assertThat(again.fingerprint()).isEqualTo(key.fingerprint());
    assertThat(again.privateKeyText()).isEqualTo(key.privateKeyText());
  }

  @Test
  void toStringShowsNoPrivateKeyMaterial() {
    SshKeyPair key = SshKeyPair.generate("pgtrail/shop/orders");

    assertThat(key.toString())
        .isEqualTo("SshKeyPair[ssh-ed25519 " + key.fingerprint() + " pgtrail/shop/orders]");
    for (String line : privateKeyBodyLines(key)) {
      assertThat(key.toString()).doesNotContain(line);
    }
  }

  @Test
  void rejectsTextThatIsNoKeyWithoutRepeatingIt() {
    String garbage = "-----BEGIN OPENSSH PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END OPENSSH PRIVATE KEY-----\n";

    assertThatThrownBy(() -> SshKeyPair.parse(garbage, ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("the SSH private key cannot be read")
        .message().doesNotContain("c2VjcmV0LXNlY3JldA");
    assertThatThrownBy(() -> SshKeyPair.parse("  ", ""))
        .hasMessage("the SSH private key is empty");
    assertThatThrownBy(() -> SshKeyPair.parse("just some words", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BEGIN OPENSSH PRIVATE KEY");
  }

  @Test
  void rejectsAMultiLineComment() {
    assertThatThrownBy(() -> SshKeyPair.generate("a\nb"))
        .hasMessage("an SSH key comment must be a single line");
  }

  @Test
  void opensshAgreesOnPublicKeyAndFingerprint() throws Exception {
    Prerequisites.assumeExecutable(Path.of("/usr/bin/ssh-keygen"), "the interoperability check with OpenSSH");
    SshKeyPair key = SshKeyPair.generate("pgtrail/shop/orders");
    Path file = writePrivate(key.privateKeyText());

    assertThat(run("ssh-keygen", "-y", "-f", file.toString()))
        .startsWith(key.publicKeyLine().substring(0, key.publicKeyLine().lastIndexOf(' ')));
    assertThat(run("ssh-keygen", "-l", "-E", "sha256", "-f", file.toString()))
        .contains(key.fingerprint());
  }

  @Test
  void readsAKeyMadeByOpenSsh() throws Exception {
    Prerequisites.assumeExecutable(Path.of("/usr/bin/ssh-keygen"), "the interoperability check with OpenSSH");
    Path file = dir.resolve("id_ed25519");
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "made-by-openssh", "-f", file.toString());

    SshKeyPair key = SshKeyPair.parse(Files.readString(file), "made-by-openssh");

    assertThat(key.publicKeyLine()).isEqualTo(Files.readString(dir.resolve("id_ed25519.pub")).strip());
  }

  @Test
  void refusesAPassphraseProtectedKeyClearly() throws Exception {
    Prerequisites.assumeExecutable(Path.of("/usr/bin/ssh-keygen"), "the interoperability check with OpenSSH");
    Path file = dir.resolve("id_locked");
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "a passphrase", "-f", file.toString());

    assertThatThrownBy(() -> SshKeyPair.parse(Files.readString(file), ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("passphrase");
  }

  static List<String> privateKeyBodyLines(SshKeyPair key) {
    return key.privateKeyText().lines().filter(l -> !l.startsWith("-----")).toList();
  }

  private Path writePrivate(String text) throws IOException {
    Path file = dir.resolve("id_pgtrail");
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as("exit code of %s: %s", command[0], output).isZero();
    return output;
  }
}
