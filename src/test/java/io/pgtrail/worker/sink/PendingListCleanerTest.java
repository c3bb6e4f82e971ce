package io.pgtrail.worker.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.Change;
import io.pgtrail.worker.WorkerHarness;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PendingListCleanerTest {

  private static void write(ConnectionSettings db, int from, int to) throws Exception {
    try (ChangeSink sink = new ChangeSink(PgConnections.open(db), "test_slot", (s, t, o, n) -> { }, null)) {
      for (int i = from; i <= to; i++) {
        sink.add(new Change("src", "public", "t", Integer.toString(i), Change.Operation.CREATE, "{}",
            "{\"id\": " + i + ", \"k\": \"v" + i + "\"}", "{\"user\": \"u" + i + "\"}", 1L, 1L, 1, i));
      }
      sink.flush(0, 0);
    }
  }

  /** Pages a merge would still find in the pending lists of the three GIN indexes. */
  private static long pendingPages(ConnectionSettings db) {
    // the leaf indexes: one per partition of a partitioned changes, the index itself on a plain one
    return WorkerHarness.count(db, "SELECT coalesce(sum(gin_clean_pending_list(t.relid)), 0) FROM unnest(ARRAY["
        + "'changes_before_index', 'changes_after_index', 'changes_context_index']) i,"
        + " pg_partition_tree(i::regclass) t WHERE t.isleaf");
  }

  @Test
  void mergesThePendingListsOnceTheWriterPauses() throws Exception {
    PgVersion version = PgVersion.primary();
    ConnectionSettings withoutCleaner = TestPostgres.newDatabase(version, "gin");
    write(withoutCleaner, 1, 2000);
    assertThat(pendingPages(withoutCleaner)).as("rows wait in the pending lists").isPositive();

    ConnectionSettings db = TestPostgres.newDatabase(version, "gin");
    AtomicLong lastWrite = new AtomicLong(Long.MIN_VALUE);
    var schedule = new PendingListCleaner.Schedule(Duration.ofMillis(200), Duration.ofHours(1));
    try (PendingListCleaner cleaner = new PendingListCleaner(db, schedule, lastWrite::get)) {
      write(db, 1, 2000);
      lastWrite.set(System.nanoTime());
      Thread.sleep(1500);
      // checked once: the check itself merges, so a second look would always find nothing
      assertThat(pendingPages(db)).isZero();
    }
  }

  @Test
  void underContinuousWritesMergesOnlyWhenDue() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "gin");
    AtomicLong lastWrite = new AtomicLong(Long.MIN_VALUE);
    var schedule = new PendingListCleaner.Schedule(Duration.ofHours(1), Duration.ofSeconds(3));
    try (PendingListCleaner cleaner = new PendingListCleaner(db, schedule, lastWrite::get)) {
      long started = System.nanoTime();
      write(db, 1, 2000);
      lastWrite.set(System.nanoTime()); // the writer never pauses for an hour: only atLatest applies
      Thread.sleep(300);
      assertThat(System.nanoTime() - started).as("test setup took too long to check").isLessThan(2_500_000_000L);
      assertThat(pendingPages(db)).as("not due yet, and the writer never paused").isPositive();
      write(db, 2001, 4000);
      lastWrite.set(System.nanoTime());
      Thread.sleep(Math.max(0, 4_000 - (System.nanoTime() - started) / 1_000_000));
      assertThat(pendingPages(db)).as("due after atLatest even without a pause").isZero();
    }
  }
}
