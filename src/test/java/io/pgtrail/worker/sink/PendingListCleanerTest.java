package io.pgtrail.worker.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.Change;
import io.pgtrail.worker.WorkerHarness;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PendingListCleanerTest {

  private static void write(ConnectionSettings db, int from, int to) throws Exception {
    try (ChangeSink sink = new ChangeSink(PgConnections.open(db), (s, t, o, n) -> { })) {
      for (int i = from; i <= to; i++) {
        sink.add(new Change("src", "public", "t", Integer.toString(i), Change.Operation.CREATE, "{}",
            "{\"id\": " + i + ", \"k\": \"v" + i + "\"}", "{\"user\": \"u" + i + "\"}", 1L, 1L, 1, i));
      }
      sink.flush();
    }
  }

  /** Pages a cleanup would still find in the pending lists of the three GIN indexes. */
  private static long pendingPages(ConnectionSettings db) {
    return WorkerHarness.count(db, "SELECT sum(gin_clean_pending_list(i::regclass)) FROM unnest(ARRAY["
        + "'changes_before_index', 'changes_after_index', 'changes_context_index']) i");
  }

  @Test
  void emptiesTheGinPendingListsInTheBackground() throws Exception {
    PgVersion version = PgVersion.primary();
    ConnectionSettings withoutCleaner = TestPostgres.newDatabase(version, "gin");
    write(withoutCleaner, 1, 2000);
    assertThat(pendingPages(withoutCleaner)).as("rows wait in the pending lists").isPositive();

    ConnectionSettings db = TestPostgres.newDatabase(version, "gin");
    try (PendingListCleaner cleaner = new PendingListCleaner(db, Duration.ofMillis(100))) {
      write(db, 1, 2000);
      Thread.sleep(1500);
      // checked once: the check itself cleans, so a second look would always find nothing
      assertThat(pendingPages(db)).isZero();
    }
  }
}
