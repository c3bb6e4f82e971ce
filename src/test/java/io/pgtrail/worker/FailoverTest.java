package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.preflight.CheckId;
import io.pgtrail.postgres.preflight.CheckStatus;
import io.pgtrail.postgres.preflight.Preflight;
import io.pgtrail.postgres.preflight.PreflightReport;
import io.pgtrail.postgres.slots.FailoverSlots;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.PhysicalStandby;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.testing.TestTcpProxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A primary and a physical standby; the worker reaches the source through a TCP proxy standing in for the
 * service address. The primary stops in the middle of a workload, the standby is promoted, the address
 * points at it, and the worker carries on from its failover slot: every committed change exactly once.
 */
@ParameterizedClass(allowZeroInvocations = true)
@MethodSource("failoverCapable")
class FailoverTest {
  private static final String SLOT = "pgtrail_ha";
  private static final String STANDBY_SLOT = "standby_1";

  @Parameter PgVersion version;

  private final List<AutoCloseable> resources = new ArrayList<>();

  static List<PgVersion> failoverCapable() {
    return PgVersion.enabled().stream().filter(v -> FailoverSlots.supported(v.major())).toList();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = resources.size() - 1; i >= 0; i--) {
      resources.get(i).close();
    }
  }

  @Test
  void workerResumesOnThePromotedStandbyWithEveryChangeExactlyOnce() throws Exception {
    long started = System.nanoTime();
    LocalPostgres primary = track(TestPostgres.start(version, b -> b));
    ConnectionSettings direct = primary.createDatabase("shop");
    primary.execute("shop",
        "CREATE TABLE items (id int PRIMARY KEY, version int NOT NULL)",
        "CREATE TABLE audit (seq bigserial PRIMARY KEY, op text NOT NULL, id int NOT NULL, version int NOT NULL)",
        // the differential reference: written in the same transaction as the change, replicated with it
        "CREATE FUNCTION audit_items() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + " INSERT INTO audit (op, id, version) VALUES (CASE TG_OP WHEN 'INSERT' THEN 'CREATE' ELSE TG_OP END,"
            + " NEW.id, NEW.version); RETURN NEW; END $$",
        "CREATE TRIGGER audit_items AFTER INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION audit_items()");
    setUp(direct);
    // the base backup leaves the slot out; the standby's slot synchronization copies it at once
    LocalPostgres standby = track(PhysicalStandby.start(version, primary, STANDBY_SLOT, true));
    System.out.printf("%s: primary and standby up in %d ms%n", version, (System.nanoTime() - started) / 1_000_000);

    PreflightReport preflight = preflight(direct);
    assertThat(preflight.check(CheckId.FAILOVER_SLOT).orElseThrow().status())
        .as("%s", preflight.check(CheckId.FAILOVER_SLOT)).isEqualTo(CheckStatus.OK);
    assertThat(preflight.check(CheckId.FAILOVER_SLOT).orElseThrow().observed())
        .isEqualTo("slot \"" + SLOT + "\" has failover on; synchronized_standby_slots = " + STANDBY_SLOT);
    assertThat(slotFlags(direct)).isEqualTo("failover=true synced=false");

    TestTcpProxy serviceAddress = track(TestTcpProxy.start("127.0.0.1", primary.port()));
    ConnectionSettings source = direct.withAddress("127.0.0.1", serviceAddress.port());
    ConnectionSettings destination = TestPostgres.newDatabase(version, "ha_dst");
    WorkerHarness worker = track(new WorkerHarness(source, destination, SLOT, ColumnFilter.none(), 200));
    Workload workload = new Workload(source);
    Thread load = new Thread(workload, "ha-workload");
    load.start();

    ConnectionSettings onStandby = standby.superuser("shop");
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      // a standby snapshot moves the slot's restart_lsn now rather than in up to 15 s: the synced copy
      // becomes persistent once the primary's slot has moved past where the standby started it
      primary.execute("postgres", "SELECT pg_log_standby_snapshot()");
      return "failover=true synced=true".equals(slotFlags(onStandby)) && worker.recorded() > 100;
    });
    System.out.printf("%s: slot synchronized to the standby after %d committed transactions, %d ms%n", version,
        workload.committed.get(), (System.nanoTime() - started) / 1_000_000);
    long beforeStop = workload.committed.get();
    primary.stop();
    PhysicalStandby.promote(standby);
    serviceAddress.retarget(standby.port());
    await().atMost(Duration.ofSeconds(60)).until(() -> workload.committed.get() > beforeStop + 150);
    System.out.printf("%s: promoted and written to, %d ms%n", version, (System.nanoTime() - started) / 1_000_000);
    workload.stop.set(true);
    load.join();

    // a marker committed after the workload: the worker records one ordered stream, so once the marker is
    // recorded everything before it is too, and no late duplicate of an earlier change can still arrive
    Db.execute(onStandby, "INSERT INTO items VALUES (0, 0)");
    await("the marker recorded").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() ->
        WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '0'") == 1);
    List<String> reference = rows(onStandby, "SELECT op || ':' || id || ':' || version FROM audit");
    List<String> recorded = rows(destination, "SELECT operation || ':' || primary_key || ':' || (after->>'version')"
        + " FROM changes");
    assertThat(workload.failovers.get()).as("the workload itself saw the primary go").isPositive();
    assertThat(reference).hasSizeGreaterThan(300);
    assertThat(recorded).isEqualTo(reference);
    assertThat(worker.worker.isStreaming()).isTrue();
    System.out.printf("%s: every change exactly once, %d ms%n", version, (System.nanoTime() - started) / 1_000_000);
  }

  @Test
  void withoutSlotSynchronizationThePromotionIsAGapRecordAndAStopNotANewSlot() throws Exception {
    assumeTrue(version == failoverCapable().get(0), "the unsynchronized case runs on one major");
    LocalPostgres primary = track(TestPostgres.start(version, b -> b));
    ConnectionSettings direct = primary.createDatabase("shop");
    primary.execute("shop", "CREATE TABLE items (id int PRIMARY KEY, version int NOT NULL)");
    setUp(direct);
    LocalPostgres standby = track(PhysicalStandby.start(version, primary, STANDBY_SLOT, false));
    await().atMost(Duration.ofSeconds(30)).until(() -> preflight(direct).check(CheckId.FAILOVER_SLOT).orElseThrow()
        .status() == CheckStatus.WARNING);
    assertThat(preflight(direct).check(CheckId.FAILOVER_SLOT).orElseThrow().observed())
        .contains("1 standby(s) attached but synchronized_standby_slots is empty");

    TestTcpProxy serviceAddress = track(TestTcpProxy.start("127.0.0.1", primary.port()));
    ConnectionSettings source = direct.withAddress("127.0.0.1", serviceAddress.port());
    ConnectionSettings destination = TestPostgres.newDatabase(version, "ha_gap_dst");
    WorkerHarness worker = track(new WorkerHarness(source, destination, SLOT, ColumnFilter.none(), 200));
    primary.execute("shop", "INSERT INTO items SELECT g, 1 FROM generate_series(1, 50) g");
    worker.awaitRecorded(50, Duration.ofSeconds(30));
    await().atMost(Duration.ofSeconds(30)).until(() -> WorkerHarness.count(destination,
        "SELECT coalesce(max(acknowledged_lsn), 0) FROM pgtrail_progress") > 0);
    long acknowledged = WorkerHarness.count(destination, "SELECT acknowledged_lsn FROM pgtrail_progress");

    primary.stop();
    PhysicalStandby.promote(standby);
    serviceAddress.retarget(standby.port());

    assertThat(worker.worker.awaitStopped(Duration.ofSeconds(60))).as("the worker stops on the gap").isTrue();
    assertThat(worker.worker.exitCode()).isEqualTo(Worker.EXIT_GAP);
    // the worker may still acknowledge (keepalives past idle WAL) after the read above: the gap starts at its last one
    long lastAcknowledged = WorkerHarness.count(destination, "SELECT acknowledged_lsn FROM pgtrail_progress");
    assertThat(lastAcknowledged).isGreaterThanOrEqualTo(acknowledged);
    assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'MESSAGE'"
        + " AND primary_key IS NULL AND context->'pgtrail'->'gap'->>'reason' = 'SlotMissing'"
        + " AND (context->'pgtrail'->'gap'->>'from_position')::bigint = " + lastAcknowledged)).isEqualTo(1);
    assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_progress WHERE state = 'stopped'"
        + " AND state_reason = 'SlotMissing'")).isEqualTo(1);
    assertThat(WorkerHarness.count(standby.superuser("shop"),
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + SLOT + "'"))
        .as("no new slot was created silently on the promoted server").isZero();
    assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'CREATE'"))
        .isEqualTo(50);
  }

  /** Publication p for items, the slot with failover (the default). */
  private static final SetupRequest SETUP = new SetupRequest("p", SLOT, Provider.SELF_MANAGED,
      TrackingScope.tables(QualifiedName.parse("items", "public")), false, false, "failover-test", null);

  private void setUp(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      SetupExecutor.apply(c, SETUP);
    }
  }

  private PreflightReport preflight(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return Preflight.run(c, db, SETUP);
    }
  }

  private static String slotFlags(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return FailoverSlots.flags(c, SLOT)
          .filter(f -> !f.temporary())
          .map(f -> "failover=" + f.failover() + " synced=" + f.synced())
          .orElse("none");
    }
  }

  private static List<String> rows(ConnectionSettings db, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = PgConnections.open(db); ResultSet rs = c.createStatement().executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    java.util.Collections.sort(out);
    return out;
  }

  private <T extends AutoCloseable> T track(T resource) {
    resources.add(resource);
    return resource;
  }

  /**
   * Small transactions (an insert, every other one also an update) through the service address. A lost
   * connection is the failover: it reconnects and goes on. What committed is read from the audit table,
   * not from here, because a commit whose reply was lost may or may not have happened.
   */
  private static final class Workload implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicInteger committed = new AtomicInteger();
    final AtomicInteger failovers = new AtomicInteger();
    private final ConnectionSettings db;
    private int next;

    Workload(ConnectionSettings db) {
      this.db = db;
    }

    @Override
    public void run() {
      while (!stop.get()) {
        try (Connection c = PgConnections.open(db); Statement s = c.createStatement()) {
          c.setAutoCommit(false);
          try (ResultSet rs = s.executeQuery("SELECT coalesce(max(id), 0) FROM items")) {
            rs.next();
            next = rs.getInt(1) + 1;
          }
          c.commit();
          while (!stop.get()) {
            s.execute("INSERT INTO items VALUES (" + next + ", 1)");
            if (next % 2 == 0) {
              s.execute("UPDATE items SET version = version + 1 WHERE id = " + (next - 1));
            }
            c.commit();
            next++;
            committed.incrementAndGet();
            Thread.sleep(2);
          }
        } catch (Exception e) {
          failovers.incrementAndGet();
          sleep();
        }
      }
    }

    private static void sleep() {
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
