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
}
