package io.pgtrail.ssh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.testing.TestSshServer;
import java.sql.Connection;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SshTunnelsTest {
  private static final SshTunnel.Timeouts FAST = new SshTunnel.Timeouts(
      Duration.ofSeconds(3), Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMillis(500));

  private static final Pattern CLIENT_THREAD = Pattern.compile("sshd-SshClient\\[[^\\]]*\\]");

  private static ConnectionSettings database;

  private TestSshServer jump;
  private SshTunnels tunnels;
  private SshTunnelSettings settings;

  @BeforeAll
  static void createDatabase() {
    database = TestPostgres.newDatabase(PgVersion.primary(), "ssh_tunnels");
  }

  @BeforeEach
  void start() {
    jump = TestSshServer.start();
    SshKeyPair key = SshKeyPair.generate(SshKeyPair.comment("shop", "orders"));
    jump.authorize(key.publicKeyLine());
    settings = new SshTunnelSettings(jump.host(), jump.port(), TestSshServer.USER, key.privateKeyText(), null,
        jump.hostKeyFingerprint(), null);
    tunnels = new SshTunnels(FAST);
  }

  @AfterEach
  void stop() {
    tunnels.close();
    jump.close();
  }

  @Test
  void theSameIdAndSettingsShareOneTunnel() throws Exception {
    SshTunnel first = tunnels.acquire("shop/orders", settings, database.host(), database.port());
    SshTunnel second = tunnels.acquire("shop/orders", settings, database.host(), database.port());

    assertThat(second).isSameAs(first);
    assertThat(tunnels.get("shop/orders")).containsSame(first);
    try (Connection c = PgConnections.open(second.route(database))) {
      assertThat(c.isValid(2)).isTrue();
    }
  }

  @Test
  void changedSettingsReplaceTheTunnel() throws Exception {
    SshTunnel first = tunnels.acquire("shop/orders", settings, database.host(), database.port());

    SshTunnel second = tunnels.acquire("shop/orders",
        settings.withHostKeyFingerprint(null).withKnownHosts(jump.knownHostsLine()), database.host(), database.port());

    assertThat(second).isNotSameAs(first);
    assertThat(first.isConnected()).isFalse();
    assertThat(second.isConnected()).isTrue();
  }

  @Test
  void aFailedOpenRegistersNothing() {
    SshTunnelSettings wrongPin = settings.withHostKeyFingerprint(SshKeyPair.generate("").fingerprint());

    assertThatThrownBy(() -> tunnels.acquire("shop/orders", wrongPin, database.host(), database.port()))
        .isInstanceOfSatisfying(SshTunnelException.class,
            e -> assertThat(e.reason()).isEqualTo(SshTunnelException.Reason.HOST_KEY_MISMATCH));
    assertThat(tunnels.get("shop/orders")).isEmpty();
  }

  @Test
  void acquireReconnectsATunnelWhoseSessionDropped() throws Exception {
    SshTunnel tunnel = tunnels.acquire("shop/orders", settings, database.host(), database.port());
    jump.stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !tunnel.isConnected());

    assertThatThrownBy(() -> tunnels.acquire("shop/orders", settings, database.host(), database.port()))
        .isInstanceOfSatisfying(SshTunnelException.class,
            e -> assertThat(e.reason()).isEqualTo(SshTunnelException.Reason.UNREACHABLE));
    jump.restart();

    assertThat(tunnels.acquire("shop/orders", settings, database.host(), database.port())).isSameAs(tunnel);
    assertThat(tunnel.isConnected()).isTrue();
  }

  @Test
  void allTunnelsShareOneClientAndClosingOneLeavesTheOthersWorking() throws Exception {
    SshTunnel orders = tunnels.acquire("shop/orders", settings, database.host(), database.port());
    SshTunnel invoices = tunnels.acquire("shop/invoices",
        settings.withHostKeyFingerprint(null).withKnownHosts(jump.knownHostsLine()), database.host(), database.port());

    assertThat(invoices.client()).isSameAs(orders.client());
    assertThat(SharedSshClient.current()).containsSame(orders.client());
    assertThat(sshClientThreadPools()).as("SSH client thread pools").hasSize(1);
    // the host key check stays each tunnel's own: a wrong pin fails for its tunnel alone
    SshTunnelSettings wrongPin = settings.withHostKeyFingerprint(SshKeyPair.generate("").fingerprint());
    assertThatThrownBy(() -> tunnels.acquire("shop/refunds", wrongPin, database.host(), database.port()))
        .isInstanceOfSatisfying(SshTunnelException.class,
            e -> assertThat(e.reason()).isEqualTo(SshTunnelException.Reason.HOST_KEY_MISMATCH));

    ConnectionSettings ordersRoute = orders.route(database);
    tunnels.release("shop/orders");

    assertThat(orders.isConnected()).isFalse();
    assertThatThrownBy(() -> PgConnections.open(ordersRoute)).as("the released tunnel's port")
        .isInstanceOf(PgConnectException.class);
    assertThat(invoices.isConnected()).isTrue();
    assertThat(invoices.client().isStarted()).isTrue();
    try (Connection c = PgConnections.open(invoices.route(database))) {
      assertThat(c.isValid(2)).isTrue();
    }
  }

  /** The distinct {@code sshd-SshClient[id]} prefixes of the live SSHD client threads: one per started client. */
  private static Set<String> sshClientThreadPools() {
    Set<String> pools = new TreeSet<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      Matcher m = CLIENT_THREAD.matcher(thread.getName());
      if (m.lookingAt()) {
        pools.add(m.group());
      }
    }
    return pools;
  }

  @Test
  void releaseClosesTheTunnel() throws Exception {
    SshTunnel tunnel = tunnels.acquire("shop/orders", settings, database.host(), database.port());

    tunnels.release("shop/orders");

    assertThat(tunnel.isConnected()).isFalse();
    assertThat(tunnels.get("shop/orders")).isEmpty();
  }
}
