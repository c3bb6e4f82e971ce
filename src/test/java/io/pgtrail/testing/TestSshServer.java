package io.pgtrail.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.server.forward.AgentForwardingFilter;
import org.apache.sshd.server.forward.ForwardingFilter;
import org.apache.sshd.server.forward.TcpForwardingFilter;
import org.apache.sshd.server.forward.X11ForwardingFilter;

/**
 * An in-process SSH jump host (Apache SSHD) on 127.0.0.1: public-key authentication only, one
 * login user whose authorized keys the test appends, TCP forwarding on (it counts forwarded
 * connections), and a fixed ed25519 host key that survives {@link #restart()} on the same port.
 */
public final class TestSshServer implements AutoCloseable {
  public static final String USER = "tunnel";

  private KeyPair hostKey;
  private final Set<String> authorizedFingerprints = new CopyOnWriteArraySet<>();
  private final AtomicInteger forwardedConnections = new AtomicInteger();
  private volatile boolean forwardingAllowed = true;
  private int port;
  private SshServer server;

  private TestSshServer(KeyPair hostKey) {
    this.hostKey = hostKey;
  }

  public static TestSshServer start() {
    try {
      TestSshServer jump = new TestSshServer(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256));
      jump.listen(0);
      return jump;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate the test SSH host key", e);
    }
  }

  /** Appends a line of {@code ~USER/.ssh/authorized_keys} ({@code ssh-ed25519 AAAA... comment}). */
  public TestSshServer authorize(String authorizedKeysLine) {
    try {
      AuthorizedKeyEntry entry = AuthorizedKeyEntry.parseAuthorizedKeyEntry(authorizedKeysLine);
      PublicKey key = entry.resolvePublicKey(null, null, PublicKeyEntryResolver.FAILING);
      authorizedFingerprints.add(KeyUtils.getFingerPrint(key));
      return this;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("not an authorized_keys line", e);
    }
  }

  /** Makes the jump host refuse TCP forwarding (like {@code AllowTcpForwarding no}). */
  public void denyForwarding() {
    forwardingAllowed = false;
  }

  public void allowForwarding() {
    forwardingAllowed = true;
  }

  public String host() {
    return "127.0.0.1";
  }

  public int port() {
    return port;
  }

  public String hostKeyFingerprint() {
    return KeyUtils.getFingerPrint(hostKey.getPublic());
  }

  /** {@code [127.0.0.1]:port ssh-ed25519 AAAA...}, as {@code ssh-keyscan} would print it. */
  public String knownHostsLine() {
    return "[" + host() + "]:" + port + " " + PublicKeyEntry.toString(hostKey.getPublic());
  }

  /** Direct-tcpip channels the jump host allowed: proof that traffic went through it. */
  public int forwardedConnections() {
    return forwardedConnections.get();
  }

  /** Stops listening and drops every session (like the jump host going down). */
  public void stop() {
    try {
      server.stop(true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts again on the same port with the same host key. */
  public void restart() {
    listen(port);
  }

  /** Starts again on the same port with a new host key (a reinstalled host, or an impostor). */
  public void restartWithNewHostKey() {
    try {
      hostKey = KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate the test SSH host key", e);
    }
    listen(port);
  }

  @Override
  public void close() {
    if (server != null && server.isStarted()) {
      stop();
    }
  }

  private void listen(int wantedPort) {
    SshServer sshd = SshServer.setUpDefaultServer();
    sshd.setHost(host());
    sshd.setPort(wantedPort);
    sshd.setKeyPairProvider(KeyPairProvider.wrap(hostKey));
    sshd.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
    sshd.setPasswordAuthenticator(null);
    sshd.setKeyboardInteractiveAuthenticator(null);
    sshd.setPublickeyAuthenticator((user, key, session) ->
        USER.equals(user) && authorizedFingerprints.contains(KeyUtils.getFingerPrint(key)));
    TcpForwardingFilter directOnly = new TcpForwardingFilter() {
      @Override
      public boolean canListen(SshdSocketAddress address, Session session) {
        return false;
      }

      @Override
      public boolean canConnect(Type type, SshdSocketAddress address, Session session) {
        if (type == Type.Direct && forwardingAllowed) {
          forwardedConnections.incrementAndGet();
          return true;
        }
        return false;
      }
    };
    sshd.setForwardingFilter(ForwardingFilter.asForwardingFilter(
        AgentForwardingFilter.of(false), X11ForwardingFilter.of(false), directOnly));
    try {
      sshd.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the test SSH server on port " + wantedPort, e);
    }
    this.server = sshd;
    this.port = sshd.getPort();
  }
}
