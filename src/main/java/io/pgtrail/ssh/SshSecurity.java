package io.pgtrail.ssh;

import org.apache.sshd.common.util.security.SecurityUtils;

/** Makes sure Apache SSHD found BouncyCastle, which it needs for ed25519 keys. */
final class SshSecurity {
  private SshSecurity() {}

  static void requireEd25519() {
    if (!SecurityUtils.isEDDSACurveSupported()) {
      throw new IllegalStateException("Apache SSHD has no ed25519 support: BouncyCastle (bcprov-jdk18on) "
          + "is missing from the classpath or failed to load (mixed BouncyCastle versions?)");
    }
  }
}
