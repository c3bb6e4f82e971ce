package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The worker as a separate JVM: SIGKILL at random points, SIGTERM. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class WorkerGuaranteesTest {
  /** The C1 compiler alone starts a JVM sooner; throughput does not matter here. */
  private static final String[] FAST_START = {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m"};

  @Parameter PgVersion version;
  @TempDir Path dir;

  private ConnectionSettings source(LocalPostgres server) {
    ConnectionSettings db = TestPostgres.newDatabase(server, "src");
    server.execute(db.database(),
        "CREATE TABLE items (id int PRIMARY KEY, version int NOT NULL, note text)",
        "ALTER TABLE items REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE items");
    return db;
  }

  /** The event trigger's keys message for items, as an ALTER TABLE sends it (the key unchanged). */
  private static final String DECLARE_KEY = "SELECT pg_logical_emit_message(true, 'pgtrail', json_build_object('keys',"
      + " json_build_object('relation', 'items'::regclass::oid, 'schema', 'public', 'table', 'items',"
      + " 'columns', json_build_array('id')))::text)";

  /**
   * Inserts, updates and deletes in small transactions; remembers every change it committed. Every 50th
   * transaction also declares the key, every 100th declares it alone (a transaction without row changes).
   */
  private static final class Workload implements Runnable {
    final Set<String> expected = java.util.Collections.synchronizedSet(new HashSet<>());
    final java.util.concurrent.atomic.AtomicInteger declarations = new java.util.concurrent.atomic.AtomicInteger();
    final AtomicBoolean stop = new AtomicBoolean();
    private final ConnectionSettings db;
    private final int transactions;
    volatile Exception failure;

    Workload(ConnectionSettings db, int transactions) {
      this.db = db;
      this.transactions = transactions;
    }

    @Override
    public void run() {
      try (Connection c = PgConnections.open(db); Statement s = c.createStatement()) {
        c.setAutoCommit(false);
        int[] versions = new int[transactions + 1];
        for (int i = 1; i <= transactions && !stop.get(); i++) {
          Set<String> done = new HashSet<>();
          String context = "SELECT pg_logical_emit_message(true, '_bemi', '{\"tx\": " + i + "}')";
          s.execute(context); // Bemi's pairing: one context message before each row change
          s.execute("INSERT INTO items VALUES (" + i + ", 1, 'row " + i + "')");
          versions[i] = 1;
          done.add("CREATE:" + i + ":1");
          if (i % 2 == 0 && versions[i - 1] > 0) {
            s.execute(context);
            s.execute("UPDATE items SET version = version + 1 WHERE id = " + (i - 1));
            done.add("UPDATE:" + (i - 1) + ":" + ++versions[i - 1]);
          }
          if (i % 5 == 0 && versions[i - 4] > 0) {
            s.execute(context);
            s.execute("DELETE FROM items WHERE id = " + (i - 4));
            done.add("DELETE:" + (i - 4) + ":" + versions[i - 4]);
            versions[i - 4] = 0;
          }
          if (i % 50 == 0) {
            s.execute(DECLARE_KEY);
          }
          c.commit();
          if (i % 100 == 0) {
            s.execute(DECLARE_KEY);
            c.commit();
          }
          declarations.addAndGet(i % 100 == 0 ? 2 : i % 50 == 0 ? 1 : 0);
          expected.addAll(done);
          Thread.sleep(1); // a steady, realistic pace rather than a flood the test then waits for
        }
      } catch (Exception e) {
        failure = e;
      }
    }
  }

  private static long recordedChanges(ConnectionSettings destination) {
    return WorkerHarness.count(destination, "SELECT count(*) FROM changes");
  }

  /**
   * A change committed after the workload stopped. The worker records one ordered stream, and a restart
   * replays only from before it: once the marker is recorded, so is everything committed before it, and
   * no late duplicate of an earlier change can still arrive.
   */
  private static void commitMarker(ConnectionSettings source, Workload workload) {
    Db.execute(source, "BEGIN", "SELECT pg_logical_emit_message(true, '_bemi', '{\"tx\": \"marker\"}')",
        "INSERT INTO items VALUES (0, 0, 'marker')", "COMMIT");
    workload.expected.add("CREATE:0:0");
  }

  private static void awaitMarker(ConnectionSettings destination, Duration atMost) {
    await("the marker recorded").atMost(atMost).pollInterval(Duration.ofMillis(250)).until(() ->
        WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '0'") == 1);
  }

  @Test
  void everyChangeIsRecordedExactlyOnceAcrossRepeatedSigkills() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    Path config = WorkerProcess.config(dir, source, destination, source.database());
    Random random = new Random(42);

    WorkerProcess first = WorkerProcess.start(config, FAST_START);
    await().atMost(Duration.ofSeconds(30)).until(() -> WorkerHarness.confirmedFlush(source, source.database()) > 0);
    Workload workload = new Workload(source, 1_000_000);
    Thread load = new Thread(workload, "workload");
    load.start();
    WorkerProcess current = first;
    java.util.List<WorkerProcess> killed = new java.util.ArrayList<>();
    while (killed.size() < 10) {
      // kill the worker at a random point of its work: once it has recorded a random number of further changes
      long killAt = recordedChanges(destination) + 1 + random.nextInt(800);
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
          .until(() -> recordedChanges(destination) >= killAt);
      System.out.printf("kill %d at %d recorded changes, %d committed%n", killed.size() + 1,
          recordedChanges(destination), workload.expected.size());
      current.kill();
      killed.add(current);
      current = WorkerProcess.start(config, FAST_START);
    }
    workload.stop.set(true);
    load.join();
    assertThat(workload.failure).isNull();
    commitMarker(source, workload);
    int expected = workload.expected.size();
    try (WorkerProcess last = current) {
      awaitMarker(destination, Duration.ofSeconds(90));
      Set<String> recorded = new HashSet<>();
      int rows = 0;
      try (Connection c = PgConnections.open(destination); ResultSet rs = c.createStatement().executeQuery(
          "SELECT operation, primary_key, coalesce(after->>'version', before->>'version'), context->>'tx'"
              + " FROM changes")) {
        while (rs.next()) {
          rows++;
          recorded.add(rs.getString(1) + ":" + rs.getString(2) + ":" + rs.getString(3));
          assertThat(rs.getString(4)).isNotNull();
        }
      }
      assertThat(killed).allSatisfy(p -> assertThat(p.exitCode())
          .as("killed by SIGKILL while working, not exited on its own").isEqualTo(137));
      StringBuilder logs = new StringBuilder(last.output());
      for (WorkerProcess p : killed) {
        logs.append(p.output());
      }
      assertThat(logs).as("some restart replayed changes the destination already had")
          .contains("already holds part of this batch");
      assertThat(expected).isGreaterThan(1000);
      assertThat(rows).isEqualTo(expected);
      assertThat(recorded).isEqualTo(workload.expected);
      assertThat(last.isAlive()).isTrue();
      // the trail never says more than it has: the slot is never confirmed beyond pgtrail_progress, so ten
      // kills raise no false gap, and nothing was refused
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'MESSAGE'"))
          .isZero();
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_dead_letter")).isZero();
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_keys"))
          .as("each key declaration kept once, replays absorbed").isEqualTo(workload.declarations.get())
          .isGreaterThan(10);
      long progress = WorkerHarness.count(destination, "SELECT acknowledged_lsn FROM pgtrail_progress");
      assertThat(progress).isGreaterThanOrEqualTo(WorkerHarness.confirmedFlush(source, source.database()));
    }
    WorkerHarness.dropSlot(source, source.database());
  }

  @Test
  void sigtermFinishesTheBatchAcknowledgesItAndExitsZero() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    Path config = WorkerProcess.config(dir, source, destination, source.database());
    WorkerProcess worker = WorkerProcess.start(config);
    await().atMost(Duration.ofSeconds(30)).until(() -> WorkerHarness.confirmedFlush(source, source.database()) > 0);
    Workload workload = new Workload(source, 3000);
    Thread load = new Thread(workload, "workload");
    load.start();
    // SIGTERM while the worker is busy: it has recorded part of the workload
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(() -> recordedChanges(destination) >= 200);

    // within the pod's default grace period (30 s); -1 when it did not exit by then
    int exit = worker.terminate(Duration.ofSeconds(30));
    load.join();

    assertThat(exit).as("exit code; log:%n%s", worker.output()).isZero();
    assertThat(worker.output()).contains("worker stopped").doesNotContain("password");
    // what the worker wrote is exactly what it acknowledged: the slot holds the rest, nothing twice
    long recorded = WorkerHarness.count(destination, "SELECT count(*) FROM changes");
    long pending = PgOutputCapture.decodeAll(PgOutputCapture.take(source, source.database(), "p")).stream()
        .filter(m -> m instanceof PgOutputMessage.Insert || m instanceof PgOutputMessage.Update
            || m instanceof PgOutputMessage.Delete)
        .count();
    assertThat(recorded).isPositive();
    assertThat(recorded + pending).as("recorded %d (by operation: %s) + pending %d; worker log:%n%s", recorded,
        Db.column(destination, "SELECT operation || '=' || count(*) FROM changes GROUP BY operation ORDER BY 1"),
        pending, worker.output()).isEqualTo(workload.expected.size());
    WorkerHarness.dropSlot(source, source.database());
  }
}
