package io.pgtrail.ssh;

/**
 * How to reach a database through an SSH jump host: what a CLI ({@link SshTunnelOptions}), a YAML
 * config file or the operator (from a {@code SourceDatabase} and its Secrets) hands to {@link
 * SshTunnel#open}. Plain data; {@link #toString()} never shows the private key.
 *
 * @param host the jump host (name or address)
 * @param port its SSH port; 0 means {@value #DEFAULT_PORT}
 * @param user the SSH login
 * @param privateKey the client private key text (OpenSSH or PEM, unencrypted); a secret
 * @param knownHosts known_hosts lines and/or bare public key lines trusted for the jump host, or null
 * @param hostKeyFingerprint {@code SHA256:...} fingerprint(s) of the jump host key, or null
 * @param hostKeyPolicy {@code strict} (null means strict) or {@code acceptNew}
 */
public record SshTunnelSettings(
    String host,
    int port,
    String user,
    String privateKey,
    String knownHosts,
    String hostKeyFingerprint,
    HostKeyPolicy hostKeyPolicy) {

  public static final int DEFAULT_PORT = 22;

  public SshTunnelSettings {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("the SSH jump host is missing");
    }
    host = host.strip();
    port = port == 0 ? DEFAULT_PORT : port;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("the SSH port must be between 1 and 65535, got " + port);
    }
    if (user == null || user.isBlank()) {
      throw new IllegalArgumentException("the SSH user for " + host + " is missing");
    }
    user = user.strip();
    if (privateKey == null || privateKey.isBlank()) {
      throw new IllegalArgumentException("the SSH private key for " + user + "@" + host + " is missing");
    }
    knownHosts = blankToNull(knownHosts);
    hostKeyFingerprint = blankToNull(hostKeyFingerprint);
    hostKeyPolicy = hostKeyPolicy == null ? HostKeyPolicy.STRICT : hostKeyPolicy;
  }

  public SshTunnelSettings withPrivateKey(String newPrivateKey) {
    return new SshTunnelSettings(host, port, user, newPrivateKey, knownHosts, hostKeyFingerprint, hostKeyPolicy);
  }

  public SshTunnelSettings withKnownHosts(String newKnownHosts) {
    return new SshTunnelSettings(host, port, user, privateKey, newKnownHosts, hostKeyFingerprint, hostKeyPolicy);
  }

  public SshTunnelSettings withHostKeyFingerprint(String newFingerprint) {
    return new SshTunnelSettings(host, port, user, privateKey, knownHosts, newFingerprint, hostKeyPolicy);
  }

  public SshTunnelSettings withHostKeyPolicy(HostKeyPolicy newPolicy) {
    return new SshTunnelSettings(host, port, user, privateKey, knownHosts, hostKeyFingerprint, newPolicy);
  }

  /** {@code user@host:port}: safe for logs, events and status. */
  public String redacted() {
    return user + "@" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  @Override
  public String toString() {
    return "SshTunnelSettings[" + redacted() + ", privateKey=<redacted>, knownHosts="
        + (knownHosts == null ? 0 : knownHosts.lines().filter(l -> !l.isBlank() && !l.startsWith("#")).count())
        + " line(s), hostKeyFingerprint=" + hostKeyFingerprint + ", hostKeyPolicy=" + hostKeyPolicy + "]";
  }
}
