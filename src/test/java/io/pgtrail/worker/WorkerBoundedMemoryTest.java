package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One transaction of a million rows through a worker JVM limited to 256 MB of heap. */
class WorkerBoundedMemoryTest {
  private static final int ROWS = 1_000_000;

  @TempDir Path dir;

  @Test
  void aMillionRowTransactionIsRecordedWithinA256MbHeap() throws Exception {
    PgVersion version = PgVersion.primary();
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    server.execute(source.database(),
        "CREATE TABLE big (id int PRIMARY KEY, note text)",
        "ALTER TABLE big REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE big");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    Path config = WorkerProcess.config(dir, source, destination, source.database());

    try (WorkerProcess worker = WorkerProcess.start(config, "-Xmx256m", "-XX:+ExitOnOutOfMemoryError")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> WorkerHarness.confirmedFlush(source, source.database()) > 0);
      server.execute(source.database(),
          "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, " + ROWS + ") g");

      await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1))
          .failFast("the worker died; log:\n" + worker.output(), () -> !worker.isAlive())
          .until(() -> WorkerHarness.count(destination, "SELECT count(*) FROM changes") >= ROWS);

      assertThat(WorkerHarness.count(destination, "SELECT count(DISTINCT primary_key) FROM changes")).isEqualTo(ROWS);
      assertThat(WorkerHarness.count(destination, "SELECT count(DISTINCT transaction_id) FROM changes")).isEqualTo(1);
      assertThat(worker.isAlive()).isTrue();
      assertThat(worker.output()).doesNotContain("OutOfMemoryError");
    }
    WorkerHarness.dropSlot(source, source.database());
  }

  /**
   * One change with a 50 MB old and new image (another column of a row holding a 50 MB value is updated,
   * REPLICA IDENTITY FULL) at the heap the worker Deployment gets by default: a 512Mi limit with
   * -XX:MaxRAMPercentage=75, i.e. 384 MB.
   */
  @Test
  void aChangeWithFiftyMegabyteImagesIsRecordedAtTheDeploymentsDefaultHeap() throws Exception {
    PgVersion version = PgVersion.primary();
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    server.execute(source.database(),
        "CREATE TABLE huge (id int PRIMARY KEY, n int, payload text)",
        "ALTER TABLE huge REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE huge");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    Path config = WorkerProcess.config(dir, source, destination, source.database());

    try (WorkerProcess worker = WorkerProcess.start(config, "-Xmx384m", "-XX:+ExitOnOutOfMemoryError")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> WorkerHarness.confirmedFlush(source, source.database()) > 0);
      server.execute(source.database(),
          "INSERT INTO huge VALUES (1, 0, repeat('0123456789abcdef', 50 * 1024 * 1024 / 16))",
          "UPDATE huge SET n = 1 WHERE id = 1",
          "INSERT INTO huge VALUES (2, 0, 'small')");

      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
          .failFast("the worker died; log:\n" + worker.output(), () -> !worker.isAlive())
          .until(() -> WorkerHarness.count(destination, "SELECT count(*) FROM changes") >= 3);

      assertThat(WorkerHarness.count(destination, "SELECT length(before->>'payload') + length(after->>'payload')"
          + " FROM changes WHERE operation = 'UPDATE'")).isEqualTo(100L * 1024 * 1024);
      assertThat(worker.isAlive()).isTrue();
      assertThat(worker.output()).doesNotContain("OutOfMemoryError");
    }
    WorkerHarness.dropSlot(source, source.database());
  }
}
