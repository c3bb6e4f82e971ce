package io.pgtrail.ssh;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.retry.Backoff;
import java.io.Closeable;
import java.io.IOException;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.NoRouteToHostException;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.UnresolvedAddressException;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelDirectTcpip;
import org.apache.sshd.client.future.AuthFuture;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.future.OpenFuture;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.util.net.SshdSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local port forward {@code 127.0.0.1:<port> -> targetHost:targetPort} through an SSH jump host
 * (Apache SSHD, public-key authentication only, the jump host key checked by {@link HostKeyTrust}).
 *
 * <pre>{@code
 * try (SshTunnel tunnel = SshTunnel.open(sshSettings, database)) {
 *   try (Connection c = PgConnections.open(tunnel.route(database))) { ... }
 * }
 * }</pre>
 *
 * <p>{@link #open} connects, authenticates, binds an ephemeral local port and checks that the jump
 * host forwards to the target (so does every reconnection); each failure is an {@link
 * SshTunnelException} with a {@link SshTunnelException.Reason}. Afterwards the tunnel keeps itself up: when the SSH session drops
 * (jump host restarted, network cut, heartbeat unanswered) it reconnects in the background with
 * backoff and binds the same local port again, so callers just open a new JDBC connection to the
 * same address. Connections that were open through the old session are broken and must be reopened.
 * {@link #ensureConnected()} reconnects synchronously; {@link #lastFailure()} says why the latest
 * reconnection attempt failed. In the rare case the old port is taken meanwhile, a new ephemeral
 * port is bound: always take the address from {@link #localPort()} or {@link #route} when
 * (re)connecting.
 *
 * <p>Thread-safe. All tunnels of a process open their sessions on one shared {@link SshClient} (its small I/O
 * thread pool runs while some tunnel is open), each session with this tunnel's key check and timeouts; a tunnel
 * has one reconnect thread of its own. Close it.
 */
public final class SshTunnel implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(SshTunnel.class);
  private static final String LOOPBACK = "127.0.0.1";

  /**
   * @param connect TCP connect, SSH handshake and authentication, each
   * @param heartbeat interval of SSH keepalives; a session with 3 unanswered ones is dropped
   * @param reconnectInitialDelay ceiling of the first delay after a drop; doubles per failed attempt (each
   *     delay lies between half and all of its ceiling: {@link Backoff})
   * @param reconnectMaxDelay upper bound of the delay between attempts, at least {@code reconnectInitialDelay}
   */
  public record Timeouts(Duration connect, Duration heartbeat, Duration reconnectInitialDelay,
      Duration reconnectMaxDelay) {
    public static final Timeouts DEFAULT =
        new Timeouts(Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofMillis(500), Duration.ofSeconds(30));

    public Timeouts {
      for (Duration d : new Duration[] {connect, heartbeat, reconnectInitialDelay, reconnectMaxDelay}) {
        if (d == null || d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("SSH tunnel timeouts must be positive durations");
        }
      }
      if (reconnectMaxDelay.compareTo(reconnectInitialDelay) < 0) {
        throw new IllegalArgumentException("the SSH tunnel's reconnectMaxDelay must be at least its reconnectInitialDelay");
      }
    }
  }

  private final SshTunnelSettings settings;
  private final SshdSocketAddress target;
  private final Timeouts timeouts;
  private final SshKeyPair identity;
  private final SshClient client;
  private final ScheduledExecutorService reconnector;
  /** Delays between reconnection attempts; reset when a session is up again. Guarded by itself. */
  private final Backoff reconnectDelays;
  private final Object lock = new Object();
  private final AtomicBoolean clientReleased = new AtomicBoolean();

  private volatile HostKeyTrust trust;
  private volatile String firstUseFingerprint;
  private volatile ServerHostKey hostKey;
  private volatile HostKeyTrust.Decision rejection;
  private volatile ClientSession session;
  private volatile int localPort;
  private volatile SshTunnelException lastFailure;
  private volatile boolean reconnectScheduled;
  private volatile boolean closed;

  private SshTunnel(SshTunnelSettings settings, String targetHost, int targetPort, Timeouts timeouts) {
    this.settings = settings;
    this.target = new SshdSocketAddress(targetHost, targetPort);
    this.timeouts = timeouts;
    this.identity = SshKeyPair.parse(settings.privateKey(), "");
    this.trust = HostKeyTrust.of(settings);
    this.reconnectDelays = new Backoff(timeouts.reconnectInitialDelay(), timeouts.reconnectMaxDelay());
    this.reconnector = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "pgtrail-ssh-reconnect-" + settings.host());
      thread.setDaemon(true);
      return thread;
    });
    this.client = SharedSshClient.acquire();
  }

  /** Opens a tunnel to the database's host and port; see {@link #open(SshTunnelSettings, String, int, Timeouts)}. */
  public static SshTunnel open(SshTunnelSettings settings, ConnectionSettings database) throws SshTunnelException {
    return open(settings, database.host(), database.port(), Timeouts.DEFAULT);
  }

  public static SshTunnel open(SshTunnelSettings settings, String targetHost, int targetPort) throws SshTunnelException {
    return open(settings, targetHost, targetPort, Timeouts.DEFAULT);
  }

  /**
   * Connects to the jump host, forwards an ephemeral port on 127.0.0.1 to {@code targetHost:targetPort}
   * (as resolved by the jump host) and checks the forward once.
   *
   * @throws SshTunnelException classified: host key, authentication, unreachable, forwarding
   * @throws IllegalArgumentException when the settings hold an unreadable key or known hosts line
   */
  public static SshTunnel open(SshTunnelSettings settings, String targetHost, int targetPort, Timeouts timeouts)
      throws SshTunnelException {
    if (targetHost == null || targetHost.isBlank() || targetPort < 1 || targetPort > 65535) {
      throw new IllegalArgumentException("the tunnel target must be host:port, got " + targetHost + ":" + targetPort);
    }
    SshTunnel tunnel = new SshTunnel(settings, targetHost, targetPort, timeouts);
    try {
      tunnel.connect(0);
      return tunnel;
    } catch (SshTunnelException | RuntimeException e) {
      tunnel.close();
      throw e;
    }
  }

  /** The local end: 127.0.0.1 and the port bound for the current session. */
  public InetSocketAddress localAddress() {
    return new InetSocketAddress(LOOPBACK, localPort);
  }

  public int localPort() {
    return localPort;
  }

  /**
   * The database settings pointed at the tunnel's local end ({@code 127.0.0.1:<localPort>}), same
   * database, user, password and sslmode. With {@code sslmode=verify-full} the server certificate
   * would be checked against 127.0.0.1 instead of the database's name: use {@code verify-ca} (or
   * {@code require}) through a tunnel.
   */
  public ConnectionSettings route(ConnectionSettings database) {
    return database.withAddress(LOOPBACK, localPort);
  }

  /** {@code user@jumphost:port -> target:port}: safe for logs, events and status. */
  public String describe() {
    return settings.redacted() + " -> " + target.getHostName() + ":" + target.getPort();
  }

  public boolean isConnected() {
    ClientSession current = session;
    return current != null && current.isOpen() && current.isAuthenticated();
  }

  /** The jump host key accepted by the latest session (empty before the first handshake). */
  public Optional<ServerHostKey> hostKey() {
    return Optional.ofNullable(hostKey);
  }

  /** Why the latest (re)connection attempt failed; empty once a session is up again. */
  public Optional<SshTunnelException> lastFailure() {
    return Optional.ofNullable(lastFailure);
  }

  /** Reconnects now if the session is down (binding the same local port when it can). */
  public void ensureConnected() throws SshTunnelException {
    if (closed) {
      throw new IllegalStateException("the SSH tunnel " + describe() + " is closed");
    }
    synchronized (lock) {
      if (!isConnected()) {
        connect(localPort);
      }
    }
  }

  /**
   * Asks the jump host to open one connection to the target and closes it again, so a forward the
   * jump host refuses (or a target it cannot reach) shows up as {@link
   * SshTunnelException.Reason#FORWARDING_FAILED} instead of a JDBC connection that ends at once.
   * Every (re)connection does this before the tunnel counts as up. PostgreSQL does not log a
   * connection that sends no bytes.
   */
  public void checkForwarding() throws SshTunnelException {
    ClientSession current = session;
    if (current == null) {
      throw new SshTunnelException(SshTunnelException.Reason.UNREACHABLE,
          "the SSH session to " + settings.redacted() + " is down");
    }
    checkForwarding(current, localPort);
  }

  private void checkForwarding(ClientSession through, int port) throws SshTunnelException {
    String refused = "the jump host " + settings.redacted() + " did not forward to " + target.getHostName() + ":"
        + target.getPort();
    String fix = ": check that it allows TCP forwarding (AllowTcpForwarding) and can reach the database";
    try (ChannelDirectTcpip channel = through.createDirectTcpipChannel(new SshdSocketAddress(LOOPBACK, port), target)) {
      OpenFuture opened = channel.open();
      if (!opened.await(timeouts.connect()) || !opened.isOpened()) {
        throw new SshTunnelException(SshTunnelException.Reason.FORWARDING_FAILED, refused + " ("
            + reasonOf(opened.getException(), "no answer within " + timeouts.connect().toSeconds() + "s") + ")" + fix);
      }
    } catch (IOException e) {
      throw new SshTunnelException(SshTunnelException.Reason.FORWARDING_FAILED,
          refused + " (" + reasonOf(e, "I/O error") + ")" + fix, e);
    }
  }

  @Override
  public void close() {
    closed = true;
    reconnector.shutdownNow();
    synchronized (lock) {
      ClientSession current = session;
      session = null;
      if (current != null) {
        current.close(true);
      }
    }
    if (clientReleased.compareAndSet(false, true)) {
      SharedSshClient.release(client);
    }
  }

  /** The SSH client this tunnel's sessions run on (the process's shared one). */
  SshClient client() {
    return client;
  }

  /** This tunnel's part of a new session: its key check, its timeouts, its drop detection. */
  private SharedSshClient.SessionSettings sessionSettings() {
    SessionListener drops = new SessionListener() {
      @Override
      public void sessionClosed(Session closedSession) {
        onSessionClosed(closedSession);
      }
    };
    return new SharedSshClient.SessionSettings(this::verifyServerKey, drops, timeouts.connect(), timeouts.heartbeat());
  }

  private boolean verifyServerKey(ClientSession clientSession, SocketAddress remote, PublicKey key) {
    HostKeyTrust.Decision decision = trust.check(settings.host(), settings.port(), key);
    if (!decision.accepted()) {
      rejection = decision;
      LOG.warn("SSH tunnel {}: refused the jump host key: {}", describe(), decision.message());
      return false;
    }
    ServerHostKey accepted = ServerHostKey.of(settings.host(), settings.port(), key, false);
    if (decision.verdict() == HostKeyTrust.Verdict.TRUSTED_ON_FIRST_USE) {
      firstUseFingerprint = accepted.fingerprint();
      trust = trust.pinning(accepted.fingerprint());
      LOG.info("SSH tunnel {}: {}", describe(), decision.message());
    }
    hostKey = ServerHostKey.of(settings.host(), settings.port(), key,
        accepted.fingerprint().equals(firstUseFingerprint));
    return true;
  }

  /** One attempt: session, authentication, local forward. Binds {@code wantedPort} (0: any). */
  private void connect(int wantedPort) throws SshTunnelException {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the SSH tunnel " + describe() + " is closed");
      }
      try {
        establish(wantedPort);
        lastFailure = null;
        synchronized (reconnectDelays) {
          reconnectDelays.reset();
        }
      } catch (SshTunnelException e) {
        lastFailure = e;
        throw e;
      }
    }
  }

  private void establish(int wantedPort) throws SshTunnelException {
    rejection = null;
    ClientSession newSession = startSession();
    try {
      authenticate(newSession);
      SshdSocketAddress bound = forward(newSession, wantedPort);
      checkForwarding(newSession, bound.getPort());
      session = newSession;
      localPort = bound.getPort();
    } catch (SshTunnelException | RuntimeException e) {
      newSession.close(true);
      throw e;
    }
    if (!newSession.isOpen()) {
      onSessionClosed(newSession);
    }
  }

  private ClientSession startSession() throws SshTunnelException {
    try {
      ConnectFuture connecting = SharedSshClient.connect(client, settings.user(), settings.host(), settings.port(),
          sessionSettings());
      if (!connecting.await(timeouts.connect())) {
        connecting.cancel();
        throw unreachable("no answer within " + timeouts.connect().toSeconds() + "s", null);
      }
      if (connecting.getException() != null) {
        throw classifyConnectFailure(connecting.getException());
      }
      return connecting.getClientSession();
    } catch (IOException e) {
      throw classifyConnectFailure(e);
    }
  }

  private void authenticate(ClientSession newSession) throws SshTunnelException {
    newSession.addPublicKeyIdentity(identity.keyPair());
    AuthFuture auth;
    try {
      auth = newSession.auth();
      auth.await(timeouts.connect());
    } catch (IOException e) {
      throw afterHandshakeFailure(e);
    }
    if (auth.isSuccess()) {
      return;
    }
    if (!auth.isDone()) {
      throw afterHandshakeFailure(null);
    }
    throw afterHandshakeFailure(auth.getException());
  }

  private SshTunnelException afterHandshakeFailure(Throwable failure) {
    HostKeyTrust.Decision refused = rejection;
    if (refused != null) {
      return new SshTunnelException(SshTunnelException.Reason.HOST_KEY_MISMATCH, refused.message());
    }
    if (failure == null) {
      return new SshTunnelException(SshTunnelException.Reason.UNREACHABLE, "the jump host "
          + settings.redacted() + " did not complete the SSH handshake within " + timeouts.connect().toSeconds()
          + "s: check that the port serves SSH");
    }
    String why = reasonOf(failure, failure.getClass().getSimpleName());
    if (why.toLowerCase(Locale.ROOT).contains("authentication")) {
      return new SshTunnelException(SshTunnelException.Reason.AUTH_FAILED, "the jump host " + settings.redacted()
          + " refused the public key " + identity.fingerprint() + ": append the public key line to ~"
          + settings.user() + "/.ssh/authorized_keys on " + settings.host() + " (and check the user name)");
    }
    return new SshTunnelException(SshTunnelException.Reason.OTHER,
        "the SSH session to " + settings.redacted() + " failed: " + why, failure);
  }

  private SshdSocketAddress forward(ClientSession newSession, int wantedPort) throws SshTunnelException {
    try {
      return newSession.startLocalPortForwarding(new SshdSocketAddress(LOOPBACK, wantedPort), target);
    } catch (IOException e) {
      if (wantedPort != 0 && hasCause(e, BindException.class)) {
        LOG.warn("SSH tunnel {}: local port {} is taken now; binding another one", describe(), wantedPort);
        return forward(newSession, 0);
      }
      throw new SshTunnelException(SshTunnelException.Reason.OTHER, "cannot listen on " + LOOPBACK + ":"
          + wantedPort + " for the SSH tunnel " + describe() + ": " + reasonOf(e, "I/O error"), e);
    }
  }

  private SshTunnelException classifyConnectFailure(Throwable failure) {
    if (hasCause(failure, UnknownHostException.class) || hasCause(failure, UnresolvedAddressException.class)) {
      return unreachable("the host name cannot be resolved", failure);
    }
    if (hasCause(failure, ConnectException.class) || hasCause(failure, NoRouteToHostException.class)) {
      return unreachable("connection refused or no route", failure);
    }
    if (hasCause(failure, SocketTimeoutException.class)
        || reasonOf(failure, "").toLowerCase(Locale.ROOT).contains("timeout")) {
      return unreachable("no answer within " + timeouts.connect().toSeconds() + "s", failure);
    }
    return unreachable(reasonOf(failure, failure.getClass().getSimpleName()), failure);
  }

  private SshTunnelException unreachable(String why, Throwable cause) {
    return new SshTunnelException(SshTunnelException.Reason.UNREACHABLE, "cannot reach the SSH jump host "
        + settings.redacted() + " (" + why + "): check the host, port and firewall", cause);
  }

  private void onSessionClosed(Session closedSession) {
    if (closed || closedSession != session) {
      return;
    }
    session = null;
    LOG.warn("SSH tunnel {}: the session dropped; re-establishing 127.0.0.1:{}", describe(), localPort);
    if (!reconnectScheduled) {
      scheduleReconnect(nextReconnectDelay());
    }
  }

  private Duration nextReconnectDelay() {
    synchronized (reconnectDelays) {
      return reconnectDelays.nextDelay();
    }
  }

  private void scheduleReconnect(Duration delay) {
    if (closed || reconnectScheduled) {
      return;
    }
    reconnectScheduled = true;
    try {
      reconnector.schedule(this::reconnect, delay.toMillis(), TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      reconnectScheduled = false;
    }
  }

  private void reconnect() {
    reconnectScheduled = false;
    if (closed) {
      return;
    }
    try {
      if (!isConnected()) {
        ensureConnected();
        LOG.info("SSH tunnel {}: re-established on 127.0.0.1:{}", describe(), localPort);
      }
    } catch (SshTunnelException e) {
      Duration next = nextReconnectDelay();
      LOG.warn("SSH tunnel {}: reconnecting failed ({}: {}); next attempt in {} ms", describe(),
          e.reason().camelCase(), e.getMessage(), next.toMillis());
      scheduleReconnect(next);
    } catch (RuntimeException e) {
      if (!closed) {
        LOG.warn("SSH tunnel {}: reconnecting failed: {}", describe(), e.toString());
        scheduleReconnect(timeouts.reconnectMaxDelay());
      }
    }
  }

  private static boolean hasCause(Throwable failure, Class<? extends Throwable> type) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  private static String reasonOf(Throwable failure, String fallback) {
    if (failure == null) {
      return fallback;
    }
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        return t.getMessage();
      }
    }
    return fallback;
  }

  @Override
  public String toString() {
    return "SshTunnel[" + LOOPBACK + ":" + localPort + " -> " + describe() + (isConnected() ? ", up" : ", down") + "]";
  }
}
