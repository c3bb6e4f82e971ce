package io.pgtrail.ssh;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.sshd.client.config.hosts.KnownHostEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * Which jump host keys to trust: known_hosts lines, {@code SHA256:} fingerprints and a {@link
 * HostKeyPolicy}. Pure decisions, no I/O; {@link SshTunnel} asks it during the SSH key exchange.
 *
 * <p>Accepted input, one entry per line ({@code #} comments and blank lines are skipped):
 * <ul>
 *   <li>known_hosts lines ({@code host[,host2] ssh-ed25519 AAAA...}, {@code [host]:2222 ...},
 *       hashed {@code |1|...} hosts, {@code @revoked} markers), used only for the matching host;
 *   <li>bare public key lines ({@code ssh-ed25519 AAAA... comment}), trusted for the tunnel's host.
 * </ul>
 * Fingerprints are {@code SHA256:<base64>} as {@code ssh-keygen -l} prints them (padding optional);
 * several may be given separated by commas or spaces.
 */
public final class HostKeyTrust {
  private static final Pattern BARE_KEY_LINE = Pattern.compile("^(ssh-|ecdsa-|sk-)\\S+\\s+[A-Za-z0-9+/=]+.*");
  private static final Pattern SHA256_FINGERPRINT = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}=?");

  /** The verdict on one presented key. */
  public enum Verdict {
    /** A configured (or earlier accepted) key matches. */
    TRUSTED,
    /** No configured key covers the host and the policy is {@link HostKeyPolicy#ACCEPT_NEW}. */
    TRUSTED_ON_FIRST_USE,
    /** Keys are configured for the host but none matches (or the key is {@code @revoked}). */
    MISMATCH,
    /** No key is configured for the host and the policy is {@link HostKeyPolicy#STRICT}. */
    UNKNOWN
  }

  /** A verdict plus a message that names host, port and fingerprints only. */
  public record Decision(Verdict verdict, String message) {
    public boolean accepted() {
      return verdict == Verdict.TRUSTED || verdict == Verdict.TRUSTED_ON_FIRST_USE;
    }
  }

  private record KnownHost(KnownHostEntry entry, String fingerprint) {}

  private final List<KnownHost> knownHosts;
  private final Set<String> anyHostFingerprints;
  private final HostKeyPolicy policy;

  private HostKeyTrust(List<KnownHost> knownHosts, Set<String> anyHostFingerprints, HostKeyPolicy policy) {
    this.knownHosts = knownHosts;
    this.anyHostFingerprints = anyHostFingerprints;
    this.policy = policy;
  }

  /**
   * @param knownHostsText known_hosts and/or bare public key lines, or null
   * @param fingerprints {@code SHA256:...} fingerprints separated by commas or spaces, or null
   * @param policy null means {@link HostKeyPolicy#STRICT}
   * @throws IllegalArgumentException naming the line number of an unreadable line
   */
  public static HostKeyTrust of(String knownHostsText, String fingerprints, HostKeyPolicy policy) {
    List<KnownHost> knownHosts = new ArrayList<>();
    Set<String> anyHost = new LinkedHashSet<>();
    parseKnownHosts(knownHostsText, knownHosts, anyHost);
    anyHost.addAll(parseFingerprints(fingerprints));
    return new HostKeyTrust(List.copyOf(knownHosts), anyHost, policy == null ? HostKeyPolicy.STRICT : policy);
  }

  public static HostKeyTrust of(SshTunnelSettings settings) {
    return of(settings.knownHosts(), settings.hostKeyFingerprint(), settings.hostKeyPolicy());
  }

  public HostKeyPolicy policy() {
    return policy;
  }

  /** Decides on the key {@code host:port} presented. */
  public Decision check(String host, int port, PublicKey key) {
    String fingerprint = SshKeyPair.fingerprint(key);
    String where = host + ":" + port;
    Set<String> trusted = new LinkedHashSet<>(anyHostFingerprints);
    for (KnownHost known : knownHosts) {
      if (!known.entry().isHostMatch(host, port)) {
        continue;
      }
      if ("revoked".equals(known.entry().getMarker())) {
        if (known.fingerprint().equals(fingerprint)) {
          return new Decision(Verdict.MISMATCH, "the jump host " + where + " presented the host key "
              + fingerprint + ", which the known hosts list marks @revoked");
        }
        continue;
      }
      trusted.add(known.fingerprint());
    }
    if (trusted.contains(fingerprint)) {
      return new Decision(Verdict.TRUSTED, "the jump host " + where + " presented the trusted host key " + fingerprint);
    }
    if (!trusted.isEmpty()) {
      return new Decision(Verdict.MISMATCH, "the jump host " + where + " presented the host key " + fingerprint
          + ", which matches none of the " + trusted.size() + " trusted key(s) (" + String.join(", ", trusted)
          + "): if the host key really changed, update the known hosts or fingerprint; otherwise "
          + "someone may be intercepting the connection");
    }
    if (policy == HostKeyPolicy.ACCEPT_NEW) {
      return new Decision(Verdict.TRUSTED_ON_FIRST_USE, "the jump host " + where + " is not pinned; accepted its "
          + "host key " + fingerprint + " on first use (hostKeyPolicy acceptNew): pin it");
    }
    String missing = knownHosts.isEmpty()
        ? "no trusted host key is configured for the jump host " + where
        : "none of the " + knownHosts.size() + " known hosts line(s) is for the jump host " + where;
    return new Decision(Verdict.UNKNOWN, missing + " (it presented " + fingerprint + "): set the known hosts "
        + "lines or the host key fingerprint, or hostKeyPolicy acceptNew to trust the first key");
  }

  /** The same trust plus one more fingerprint trusted for every host: how a tunnel pins a first-use key. */
  HostKeyTrust pinning(String fingerprint) {
    Set<String> anyHost = new LinkedHashSet<>(anyHostFingerprints);
    anyHost.add(fingerprint);
    return new HostKeyTrust(knownHosts, anyHost, policy);
  }

  private static void parseKnownHosts(String text, List<KnownHost> knownHosts, Set<String> anyHost) {
    if (text == null) {
      return;
    }
    List<String> lines = text.lines().toList();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String what = "known hosts line " + (i + 1);
      if (BARE_KEY_LINE.matcher(line).matches()) {
        anyHost.add(SshKeyPair.fingerprint(resolve(PublicKeyEntry.parsePublicKeyEntry(line), what)));
        continue;
      }
      if (line.startsWith("@cert-authority")) {
        throw new IllegalArgumentException(what + ": @cert-authority entries are not supported; "
            + "list the jump host's own key instead");
      }
      KnownHostEntry entry;
      try {
        entry = KnownHostEntry.parseKnownHostEntry(line);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException(what + " is not a known_hosts entry (expected 'host ssh-ed25519 AAAA...')");
      }
      if (entry == null || entry.getKeyEntry() == null) {
        throw new IllegalArgumentException(what + " is not a known_hosts entry (expected 'host ssh-ed25519 AAAA...')");
      }
      knownHosts.add(new KnownHost(entry, SshKeyPair.fingerprint(resolve(entry.getKeyEntry(), what))));
    }
  }

  private static PublicKey resolve(PublicKeyEntry entry, String what) {
    try {
      PublicKey key = entry.resolvePublicKey(null, null, PublicKeyEntryResolver.FAILING);
      if (key == null) {
        throw new IllegalArgumentException(what + " holds an unsupported key type " + entry.getKeyType());
      }
      return key;
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage().startsWith(what)) {
        throw iae;
      }
      throw new IllegalArgumentException(what + " holds a public key that cannot be decoded ("
          + entry.getKeyType() + ")");
    }
  }

  private static Set<String> parseFingerprints(String text) {
    Set<String> fingerprints = new LinkedHashSet<>();
    if (text == null || text.isBlank()) {
      return fingerprints;
    }
    for (String token : text.strip().split("[,\\s]+")) {
      if (!SHA256_FINGERPRINT.matcher(token).matches()) {
        throw new IllegalArgumentException("host key fingerprint '" + token + "' is not a SHA256 fingerprint "
            + "(expected SHA256: followed by 43 base64 characters, as printed by ssh-keygen -lf)");
      }
      String base64 = token.substring("SHA256:".length()).replace("=", "");
      fingerprints.add("SHA256:" + base64);
    }
    return fingerprints;
  }
}
