package io.pgtrail.reconciler.sourcedatabase;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SshHostKeyPolicySpec;
import io.pgtrail.api.v1alpha1.SshTunnelSpec;
import io.pgtrail.reconciler.sourcedatabase.SourceTunnel.JumpHostTrust;
import io.pgtrail.ssh.HostKeyPolicy;
import org.junit.jupiter.api.Test;

/** The one decision which jump host keys are trusted (operator, cleanup and worker follow it). */
class JumpHostTrustTest {
  private static final String GIVEN = "SHA256:" + "g".repeat(43);
  private static final String PINNED = "SHA256:" + "p".repeat(43);
  private static final String KNOWN_HOSTS = "bastion ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample";

  @Test
  void acceptNewTrustsTheFirstKeyThenOnlyThePinnedOne() {
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.ACCEPT_NEW, null), null, null))
        .isEqualTo(new JumpHostTrust(null, HostKeyPolicy.ACCEPT_NEW, true, null));
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.ACCEPT_NEW, null), null, new SourceDatabaseStatus()))
        .isEqualTo(new JumpHostTrust(null, HostKeyPolicy.ACCEPT_NEW, true, null));
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.ACCEPT_NEW, null), null, pinned()))
        .isEqualTo(new JumpHostTrust(PINNED, HostKeyPolicy.STRICT, true, PINNED));
  }

  @Test
  void configuredKeysOutrankAcceptNewAndAKeyPinnedEarlier() {
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.ACCEPT_NEW, GIVEN), null, pinned()))
        .isEqualTo(new JumpHostTrust(GIVEN, HostKeyPolicy.STRICT, false, null));
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.ACCEPT_NEW, null), KNOWN_HOSTS, pinned()))
        .isEqualTo(new JumpHostTrust(null, HostKeyPolicy.STRICT, false, null));
  }

  @Test
  void strictNeverUsesAKeyPinnedUnderAnEarlierAcceptNew() {
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.STRICT, null), null, pinned()))
        .isEqualTo(new JumpHostTrust(null, HostKeyPolicy.STRICT, false, null));
    assertThat(JumpHostTrust.of(tunnel(null, null), KNOWN_HOSTS, pinned()))
        .isEqualTo(new JumpHostTrust(null, HostKeyPolicy.STRICT, false, null));
    assertThat(JumpHostTrust.of(tunnel(SshHostKeyPolicySpec.STRICT, GIVEN), KNOWN_HOSTS, pinned()))
        .isEqualTo(new JumpHostTrust(GIVEN, HostKeyPolicy.STRICT, false, null));
  }

  private static SshTunnelSpec tunnel(SshHostKeyPolicySpec policy, String fingerprint) {
    SshTunnelSpec spec = new SshTunnelSpec();
    spec.host = "bastion";
    spec.user = "pgtrail";
    spec.hostKeyPolicy = policy;
    spec.hostKeyFingerprint = fingerprint;
    return spec;
  }

  private static SourceDatabaseStatus pinned() {
    SourceDatabaseStatus status = new SourceDatabaseStatus();
    status.sshHostKeyFingerprint = PINNED;
    return status;
  }
}
