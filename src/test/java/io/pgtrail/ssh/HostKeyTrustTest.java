package io.pgtrail.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrail.ssh.HostKeyTrust.Decision;
import io.pgtrail.ssh.HostKeyTrust.Verdict;
import io.pgtrail.testing.Prerequisites;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostKeyTrustTest {
  private static final SshKeyPair JUMP = SshKeyPair.generate("");
  private static final SshKeyPair IMPOSTOR = SshKeyPair.generate("");
  private static final String JUMP_KEY = JUMP.publicKeyLine();

  @TempDir Path dir;

  @Test
  void aMatchingFingerprintIsTrusted() {
    Decision decision = HostKeyTrust.of(null, JUMP.fingerprint(), null).check("jump.example.com", 22, JUMP.publicKey());

    assertThat(decision.verdict()).isEqualTo(Verdict.TRUSTED);
    assertThat(decision.accepted()).isTrue();
  }

  @Test
  void fingerprintPaddingIsOptionalAndSeveralMayBeGiven() {
    HostKeyTrust trust = HostKeyTrust.of(null, IMPOSTOR.fingerprint() + ", " + JUMP.fingerprint() + "=", null);

    assertThat(trust.check("jump", 22, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
  }

  @Test
  void anotherKeyThanTheFingerprintIsAMismatchNamingBothFingerprints() {
    Decision decision = HostKeyTrust.of(null, JUMP.fingerprint(), HostKeyPolicy.ACCEPT_NEW)
        .check("jump.example.com", 2222, IMPOSTOR.publicKey());

    assertThat(decision.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(decision.accepted()).isFalse();
    assertThat(decision.message())
        .contains("jump.example.com:2222", IMPOSTOR.fingerprint(), JUMP.fingerprint());
  }

  @Test
  void knownHostsLinesApplyToTheirHostAndPort() {
    HostKeyTrust trust = HostKeyTrust.of("""
        # the bastion
        jump.example.com,10.0.0.5 %s
        [jump.example.com]:2222 %s
        """.formatted(JUMP_KEY, IMPOSTOR.publicKeyLine()), null, HostKeyPolicy.STRICT);

    assertThat(trust.check("jump.example.com", 22, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
    assertThat(trust.check("10.0.0.5", 22, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
    assertThat(trust.check("jump.example.com", 2222, JUMP.publicKey()).verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(trust.check("jump.example.com", 2222, IMPOSTOR.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
    Decision otherHost = trust.check("other.example.com", 22, JUMP.publicKey());
    assertThat(otherHost.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(otherHost.message()).startsWith("none of the 2 known hosts line(s) is for the jump host other.example.com:22");
  }

  @Test
  void aBarePublicKeyLineIsTrustedForTheTunnelsHost() {
    HostKeyTrust trust = HostKeyTrust.of(JUMP_KEY + "\n", null, null);

    assertThat(trust.check("whatever.internal", 2200, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
    assertThat(trust.check("whatever.internal", 2200, IMPOSTOR.publicKey()).verdict()).isEqualTo(Verdict.MISMATCH);
  }

  @Test
  void aRevokedKeyIsRefusedEvenUnderAcceptNew() {
    HostKeyTrust trust = HostKeyTrust.of("@revoked * " + JUMP_KEY, null, HostKeyPolicy.ACCEPT_NEW);

    Decision decision = trust.check("jump", 22, JUMP.publicKey());

    assertThat(decision.verdict()).isEqualTo(Verdict.MISMATCH);
    assertThat(decision.message()).contains("@revoked");
    assertThat(trust.check("jump", 22, IMPOSTOR.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED_ON_FIRST_USE);
  }

  @Test
  void withNothingConfiguredStrictRefusesAndAcceptNewTrustsOnFirstUse() {
    Decision strict = HostKeyTrust.of(null, null, HostKeyPolicy.STRICT).check("jump", 22, JUMP.publicKey());
    Decision acceptNew = HostKeyTrust.of(null, null, HostKeyPolicy.ACCEPT_NEW).check("jump", 22, JUMP.publicKey());

    assertThat(strict.verdict()).isEqualTo(Verdict.UNKNOWN);
    assertThat(strict.message()).contains("no trusted host key is configured", JUMP.fingerprint(), "acceptNew");
    assertThat(acceptNew.verdict()).isEqualTo(Verdict.TRUSTED_ON_FIRST_USE);
    assertThat(acceptNew.message()).contains(JUMP.fingerprint());
  }

  @Test
  void aPinnedFirstUseKeyIsTheOnlyOneTrustedAfterwards() {
    HostKeyTrust pinned = HostKeyTrust.of(null, null, HostKeyPolicy.ACCEPT_NEW).pinning(JUMP.fingerprint());

    assertThat(pinned.check("jump", 22, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
    assertThat(pinned.check("jump", 22, IMPOSTOR.publicKey()).verdict()).isEqualTo(Verdict.MISMATCH);
  }

  @Test
  void hashedKnownHostsEntriesMatch() throws Exception {
    Prerequisites.assumeExecutable(Path.of("/usr/bin/ssh-keygen"), "the interoperability check with OpenSSH");
    Path file = dir.resolve("known_hosts");
    Files.writeString(file, "[jump.example.com]:2222 " + JUMP_KEY + "\n");
    Process hash = new ProcessBuilder("ssh-keygen", "-H", "-f", file.toString()).redirectErrorStream(true).start();
    String output = new String(hash.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(hash.waitFor()).as(output).isZero();
    String hashed = Files.readString(file);
    assertThat(hashed).startsWith("|1|");

    HostKeyTrust trust = HostKeyTrust.of(hashed, null, null);

    assertThat(trust.check("jump.example.com", 2222, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
    assertThat(trust.check("jump.example.com", 22, JUMP.publicKey()).verdict()).isEqualTo(Verdict.UNKNOWN);
  }

  @Test
  void theAcceptedKeyIsReportedAsFingerprintAndKnownHostsLine() {
    ServerHostKey onDefaultPort = ServerHostKey.of("jump.example.com", 22, JUMP.publicKey(), true);
    ServerHostKey onOtherPort = ServerHostKey.of("jump.example.com", 2222, JUMP.publicKey(), false);

    assertThat(onDefaultPort.fingerprint()).isEqualTo(JUMP.fingerprint());
    assertThat(onDefaultPort.keyType()).isEqualTo("ssh-ed25519");
    assertThat(onDefaultPort.knownHostsLine()).isEqualTo("jump.example.com " + JUMP_KEY);
    assertThat(onOtherPort.knownHostsLine()).isEqualTo("[jump.example.com]:2222 " + JUMP_KEY);
    assertThat(HostKeyTrust.of(onOtherPort.knownHostsLine(), null, null)
        .check("jump.example.com", 2222, JUMP.publicKey()).verdict()).isEqualTo(Verdict.TRUSTED);
  }

  @Test
  void unreadableInputIsRefusedWithTheLineNumber() {
    assertThatThrownBy(() -> HostKeyTrust.of("# fine\njump.example.com ssh-ed25519 not-base64!!", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("known hosts line 2 ");
    assertThatThrownBy(() -> HostKeyTrust.of("@cert-authority *.example.com " + JUMP_KEY, null, null))
        .hasMessageContaining("@cert-authority entries are not supported");
    assertThatThrownBy(() -> HostKeyTrust.of(null, "MD5:ab:cd", null))
        .hasMessageContaining("is not a SHA256 fingerprint");
  }

  @Test
  void policiesParseFromTheirConfigSpellings() {
    assertThat(HostKeyPolicy.parse("strict")).isEqualTo(HostKeyPolicy.STRICT);
    assertThat(HostKeyPolicy.parse(null)).isEqualTo(HostKeyPolicy.STRICT);
    assertThat(HostKeyPolicy.parse("acceptNew")).isEqualTo(HostKeyPolicy.ACCEPT_NEW);
    assertThat(HostKeyPolicy.parse("accept-new")).isEqualTo(HostKeyPolicy.ACCEPT_NEW);
    assertThat(HostKeyPolicy.ACCEPT_NEW.toString()).isEqualTo("acceptNew");
    assertThatThrownBy(() -> HostKeyPolicy.parse("yes")).hasMessageContaining("expected strict or acceptNew");
  }
}
