package io.pgtrail.ssh;

import java.security.PublicKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;

/**
 * The host key a jump host presented and pgtrail accepted.
 *
 * @param keyType {@code ssh-ed25519}, {@code ssh-rsa}, ...
 * @param fingerprint {@code SHA256:...}: what {@code hostKeyFingerprint} pins
 * @param knownHostsLine {@code host keytype AAAA...} ({@code [host]:port ...} off port 22): what
 *     {@code hostKeys} pins
 * @param trustedOnFirstUse true when no configured key covered the host and {@link
 *     HostKeyPolicy#ACCEPT_NEW} let it in: the caller should pin it now
 */
public record ServerHostKey(String keyType, String fingerprint, String knownHostsLine, boolean trustedOnFirstUse) {

  static ServerHostKey of(String host, int port, PublicKey key, boolean trustedOnFirstUse) {
    String hostField = port == SshTunnelSettings.DEFAULT_PORT ? host : "[" + host + "]:" + port;
    return new ServerHostKey(KeyUtils.getKeyType(key), SshKeyPair.fingerprint(key),
        hostField + " " + PublicKeyEntry.toString(key), trustedOnFirstUse);
  }
}
