package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Worker JVMs with a small heap: a transaction of a million rows, a change with 50 MB images. */
class WorkerBoundedMemoryTest {
  private static final int ROWS = 1_000_000;
  /**
   * The collector the JVM picks in the worker's container: below 1792 MB of memory (the default limit is
   * 512Mi) it is not a "server class machine" and runs the serial collector. Its old generation is two
   * thirds of the heap, and an array larger than the young generation must fit there whole, so it is the
   * stricter of the two for a 50 MB change; G1 here (2 cores, 24 GB) would pass with less.
   */
  private static final String DEPLOYMENT_GC = "-XX:+UseSerialGC";

  @TempDir Path dir;

  /** What a test checks in the destination once the worker recorded its changes. */
  @FunctionalInterface
  private interface Checks {
    void check(ConnectionSettings destination) throws Exception;
  }

  /** A worker JVM with {@code heap} records {@code expected} changes of {@code workload} on a table made by {@code ddl}. */
  private void recordWithHeap(String heap, String table, String ddl, String[] workload, long expected, Duration atMost,
      Checks checks) throws Exception {
    LocalPostgres server = TestPostgres.shared(PgVersion.primary());
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    server.execute(source.database(), ddl, "ALTER TABLE " + table + " REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE " + table);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    Path config = WorkerProcess.config(dir, source, destination, source.database());
    try (WorkerProcess worker = WorkerProcess.start(config, heap, DEPLOYMENT_GC, "-XX:+ExitOnOutOfMemoryError")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> WorkerHarness.confirmedFlush(source, source.database()) > 0);
      server.execute(source.database(), workload);
      try {
        await().atMost(atMost).pollInterval(Duration.ofSeconds(1))
            .failFast("the worker died (out of memory?)", () -> !worker.isAlive())
            .until(() -> WorkerHarness.count(destination, "SELECT count(*) FROM changes") >= expected);
      } catch (RuntimeException e) {
        System.out.println("worker log:\n" + worker.output());
        throw e;
      }
      checks.check(destination);
      assertThat(worker.isAlive()).isTrue();
      assertThat(worker.output()).doesNotContain("OutOfMemoryError");
    }
    WorkerHarness.dropSlot(source, source.database());
  }

  @Test
  void aMillionRowTransactionIsRecordedWithinA256MbHeap() throws Exception {
    recordWithHeap("-Xmx256m", "big", "CREATE TABLE big (id int PRIMARY KEY, note text)",
        new String[] {"INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, " + ROWS + ") g"},
        ROWS, Duration.ofMinutes(4), destination -> {
          assertThat(WorkerHarness.count(destination, "SELECT count(DISTINCT primary_key) FROM changes")).isEqualTo(ROWS);
          assertThat(WorkerHarness.count(destination, "SELECT count(DISTINCT transaction_id) FROM changes")).isEqualTo(1);
        });
  }

  /**
   * One change with a 50 MB old and new image (another column of a row holding a 50 MB value is updated,
   * REPLICA IDENTITY FULL) at the heap the worker Deployment gets by default: a 512Mi limit with
   * -XX:MaxRAMPercentage=75, i.e. 384 MB.
   */
  @Test
  void aChangeWithFiftyMegabyteImagesIsRecordedAtTheDeploymentsDefaultHeap() throws Exception {
    recordWithHeap("-Xmx384m", "huge", "CREATE TABLE huge (id int PRIMARY KEY, n int, payload text)",
        new String[] {"INSERT INTO huge VALUES (1, 0, repeat('0123456789abcdef', 50 * 1024 * 1024 / 16))",
            "UPDATE huge SET n = 1 WHERE id = 1", "INSERT INTO huge VALUES (2, 0, 'small')"},
        3, Duration.ofMinutes(3), destination -> assertThat(WorkerHarness.count(destination,
            "SELECT length(before->>'payload') + length(after->>'payload') FROM changes WHERE operation = 'UPDATE'"))
            .isEqualTo(100L * 1024 * 1024));
  }
}
