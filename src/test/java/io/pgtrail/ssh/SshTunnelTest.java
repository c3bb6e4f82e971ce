package io.pgtrail.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.ssh.SshTunnelException.Reason;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.testing.TestSshServer;
import io.pgtrail.testing.TestTcpProxy;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class SshTunnelTest {
  private static final SshTunnel.Timeouts FAST = new SshTunnel.Timeouts(
      Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMillis(500));

  private static ConnectionSettings database;

  private final List<SshKeyPair> clientKeys = new ArrayList<>();
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final List<Level> savedLevels = new ArrayList<>();
  private TestSshServer jump;
  private SshKeyPair key;

  @BeforeAll
  static void createDatabase() throws Exception {
    database = TestPostgres.newDatabase(PgVersion.primary(), "ssh_tunnel");
    try (Connection c = PgConnections.open(database)) {
      c.createStatement().execute("CREATE TABLE greeting (word text); INSERT INTO greeting VALUES ('hello')");
    }
  }

  @BeforeEach
  void startJumpHostAndCaptureLogs() {
    captureLogsAtDebug();
    jump = TestSshServer.start();
    resources.add(jump);
    key = newClientKey();
    jump.authorize(key.publicKeyLine());
  }

  @AfterEach
  void closeEverythingThenCheckThreadsAndLogs() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(Thread.getAllStackTraces().keySet())
        .as("threads left behind by closed tunnels")
        .noneMatch(t -> t.getName().startsWith("sshd-SshClient") || t.getName().startsWith("pgtrail-ssh-reconnect")));
    stopCapturingLogs();
    assertThat(logs.list).as("Apache SSHD debug events captured")
        .anyMatch(e -> e.getLoggerName().startsWith("org.apache.sshd") && e.getLevel() == Level.DEBUG);
    for (ILoggingEvent event : logs.list) {
      String logged = event.getFormattedMessage()
          + (event.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(event.getThrowableProxy()));
      assertThat(logged).doesNotContain("PRIVATE KEY");
      for (SshKeyPair clientKey : clientKeys) {
        for (String line : SshKeyPairTest.privateKeyBodyLines(clientKey)) {
          assertThat(logged).as("log line from %s", event.getLoggerName()).doesNotContain(line);
        }
      }
    }
  }

  @Test
  void queriesTheDatabaseThroughTheJumpHost() throws Exception {
    SshTunnel tunnel = open(settings().withKnownHosts(jump.knownHostsLine()));

    assertThat(tunnel.isConnected()).isTrue();
    assertThat(tunnel.localAddress().getHostString()).isEqualTo("127.0.0.1");
    assertThat(tunnel.localPort()).isNotEqualTo(database.port());
    int forwardedBefore = jump.forwardedConnections();
    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
    assertThat(jump.forwardedConnections()).isEqualTo(forwardedBefore + 1);
    assertThat(tunnel.hostKey()).get().satisfies(hostKey -> {
      assertThat(hostKey.fingerprint()).isEqualTo(jump.hostKeyFingerprint());
      assertThat(hostKey.trustedOnFirstUse()).isFalse();
    });
    assertThat(tunnel.route(database).database()).isEqualTo(database.database());
    assertThat(tunnel.route(database).user()).isEqualTo(database.user());
  }

  @Test
  void replicationConnectionsWorkThroughTheTunnel() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));

    try (Connection replication = (Connection) PgConnections.openReplication(tunnel.route(database));
        ResultSet rs = replication.createStatement().executeQuery("IDENTIFY_SYSTEM")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString("dbname")).isEqualTo(database.database());
    }
  }

  @Test
  void aPinnedFingerprintIsEnough() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));

    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
  }

  @Test
  void aKeyMissingFromAuthorizedKeysIsAnAuthenticationFailure() {
    SshKeyPair stranger = newClientKey();

    assertThatThrownBy(() -> open(settings().withPrivateKey(stranger.privateKeyText()).withHostKeyFingerprint(jump.hostKeyFingerprint())))
        .isInstanceOfSatisfying(SshTunnelException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.AUTH_FAILED);
          assertThat(e.reason().camelCase()).isEqualTo("SshAuthFailed");
          assertThat(e.getMessage()).contains(stranger.fingerprint(), "authorized_keys", TestSshServer.USER);
        });
  }

  @Test
  void aHostKeyOtherThanThePinnedOneIsRefused() {
    String someoneElse = SshKeyPair.generate("").fingerprint();

    assertThatThrownBy(() -> open(settings().withHostKeyFingerprint(someoneElse)))
        .isInstanceOfSatisfying(SshTunnelException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.HOST_KEY_MISMATCH);
          assertThat(e.reason().camelCase()).isEqualTo("HostKeyMismatch");
          assertThat(e.getMessage()).contains(jump.hostKeyFingerprint(), someoneElse);
        });
    assertThat(jump.forwardedConnections()).isZero();
  }

  @Test
  void anUnpinnedHostIsRefusedUnderTheStrictPolicy() {
    assertThatThrownBy(() -> open(settings()))
        .isInstanceOfSatisfying(SshTunnelException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.HOST_KEY_MISMATCH);
          assertThat(e.getMessage()).contains("no trusted host key is configured", jump.hostKeyFingerprint());
        });
  }

  @Test
  void acceptNewTrustsTheFirstKeyAndReportsItForPinning() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyPolicy(HostKeyPolicy.ACCEPT_NEW));

    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
    ServerHostKey seen = tunnel.hostKey().orElseThrow();
    assertThat(seen.trustedOnFirstUse()).isTrue();
    assertThat(seen.fingerprint()).isEqualTo(jump.hostKeyFingerprint());
    assertThat(seen.knownHostsLine()).isEqualTo(jump.knownHostsLine());
  }

  @Test
  void aTunnelKeepsItsFirstUseKeyAcrossReconnects() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyPolicy(HostKeyPolicy.ACCEPT_NEW));
    String firstKey = jump.hostKeyFingerprint();

    jump.stop();
    jump.restartWithNewHostKey();

    await().atMost(Duration.ofSeconds(10)).until(() ->
        tunnel.lastFailure().map(e -> e.reason() == Reason.HOST_KEY_MISMATCH).orElse(false));
    assertThat(tunnel.isConnected()).isFalse();
    assertThat(tunnel.lastFailure().orElseThrow().getMessage()).contains(firstKey, jump.hostKeyFingerprint());
  }

  @Test
  void anUnreachableJumpHostIsReportedAsSuch() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
    SshTunnelSettings nowhere = new SshTunnelSettings("127.0.0.1", closedPort, TestSshServer.USER,
        key.privateKeyText(), null, jump.hostKeyFingerprint(), null);

    assertThatThrownBy(() -> open(nowhere))
        .isInstanceOfSatisfying(SshTunnelException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.UNREACHABLE);
          assertThat(e.reason().camelCase()).isEqualTo("SshUnreachable");
          assertThat(e.getMessage()).contains("127.0.0.1:" + closedPort);
        });
  }

  @Test
  void aJumpHostThatRefusesForwardingIsReportedAtOpen() {
    jump.denyForwarding();

    assertThatThrownBy(() -> open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint())))
        .isInstanceOfSatisfying(SshTunnelException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.FORWARDING_FAILED);
          assertThat(e.getMessage()).contains("AllowTcpForwarding", database.host() + ":" + database.port());
        });
  }

  @Test
  void aJumpHostThatStopsForwardingIsNotCountedAsReconnected() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));
    jump.denyForwarding();
    jump.stop();
    jump.restart();

    await().atMost(Duration.ofSeconds(10)).until(() ->
        tunnel.lastFailure().map(e -> e.reason() == Reason.FORWARDING_FAILED).orElse(false));
    assertThat(tunnel.isConnected()).isFalse();
    jump.allowForwarding();

    await().atMost(Duration.ofSeconds(10)).until(tunnel::isConnected);
    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
  }

  @Test
  void aRestartedJumpHostIsReconnectedOnTheSameLocalPort() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));
    int port = tunnel.localPort();
    Connection before = PgConnections.open(tunnel.route(database));
    resources.add(before);
    assertThat(greeting(before)).isEqualTo("hello");

    jump.stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !tunnel.isConnected());
    assertThatThrownBy(() -> greeting(before)).isInstanceOf(SQLException.class);
    jump.restart();

    await().atMost(Duration.ofSeconds(10)).until(tunnel::isConnected);
    assertThat(tunnel.localPort()).isEqualTo(port);
    assertThat(tunnel.lastFailure()).isEmpty();
    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
  }

  @Test
  void aLocalPortTakenWhileTheJumpHostWasDownIsReplacedByAnother() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));
    int oldPort = tunnel.localPort();
    jump.stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !tunnel.isConnected());

    try (ServerSocket squatter = new ServerSocket(oldPort, 1, InetAddress.getByName("127.0.0.1"))) {
      jump.restart();
      await().atMost(Duration.ofSeconds(10)).until(tunnel::isConnected);

      assertThat(tunnel.localPort()).isNotEqualTo(oldPort);
      assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
    }
  }

  @Test
  void aSilentlyDeadLinkIsDetectedByHeartbeatsAndReplaced() throws Exception {
    TestTcpProxy link = TestTcpProxy.start(jump.host(), jump.port());
    resources.add(link);
    SshTunnelSettings throughLink = new SshTunnelSettings(jump.host(), link.port(), TestSshServer.USER,
        key.privateKeyText(), null, jump.hostKeyFingerprint(), null);
    SshTunnel.Timeouts quickHeartbeat = new SshTunnel.Timeouts(
        Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofMillis(100), Duration.ofMillis(500));
    SshTunnel tunnel = SshTunnel.open(throughLink, database.host(), database.port(), quickHeartbeat);
    resources.add(tunnel);

    link.freeze();
    await().atMost(Duration.ofSeconds(15)).until(() -> !tunnel.isConnected());
    link.thaw();

    await().atMost(Duration.ofSeconds(15)).until(tunnel::isConnected);
    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
  }

  @Test
  void ensureConnectedReportsWhyTheJumpHostIsGone() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));

    jump.stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !tunnel.isConnected());

    assertThatThrownBy(tunnel::ensureConnected)
        .isInstanceOfSatisfying(SshTunnelException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNREACHABLE));
    assertThat(tunnel.lastFailure()).get().extracting(SshTunnelException::reason).isEqualTo(Reason.UNREACHABLE);
    jump.restart();
    tunnel.ensureConnected();
    assertThat(tunnel.lastFailure()).isEmpty();
    assertThat(greeting(tunnel.route(database))).isEqualTo("hello");
  }

  @Test
  void aClosedTunnelStopsListening() throws Exception {
    SshTunnel tunnel = open(settings().withHostKeyFingerprint(jump.hostKeyFingerprint()));
    ConnectionSettings routed = tunnel.route(database);

    tunnel.close();

    assertThat(tunnel.isConnected()).isFalse();
    assertThatThrownBy(() -> PgConnections.open(routed)).isInstanceOf(PgConnectException.class);
    assertThatThrownBy(tunnel::ensureConnected).isInstanceOf(IllegalStateException.class);
  }

  private SshTunnelSettings settings() {
    return new SshTunnelSettings(jump.host(), jump.port(), TestSshServer.USER, key.privateKeyText(), null, null, null);
  }

  private SshTunnel open(SshTunnelSettings settings) throws SshTunnelException {
    SshTunnel tunnel = SshTunnel.open(settings, database.host(), database.port(), FAST);
    resources.add(tunnel);
    return tunnel;
  }

  private SshKeyPair newClientKey() {
    SshKeyPair clientKey = SshKeyPair.generate(SshKeyPair.comment("test", "tunnel"));
    clientKeys.add(clientKey);
    return clientKey;
  }

  private static String greeting(ConnectionSettings settings) throws Exception {
    try (Connection c = PgConnections.open(settings)) {
      return greeting(c);
    }
  }

  private static String greeting(Connection c) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT word FROM greeting")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private void captureLogsAtDebug() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    for (String name : List.of("org.apache.sshd", "io.pgtrail")) {
      Logger logger = context.getLogger(name);
      savedLevels.add(logger.getLevel());
      logger.setLevel(Level.DEBUG);
    }
    logs.setContext(context);
    logs.start();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).addAppender(logs);
  }

  private void stopCapturingLogs() {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(logs);
    logs.stop();
    List<String> names = List.of("org.apache.sshd", "io.pgtrail");
    for (int i = 0; i < names.size(); i++) {
      context.getLogger(names.get(i)).setLevel(savedLevels.get(i));
    }
  }
}
