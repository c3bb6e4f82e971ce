package io.pgtrail.worker.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
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
    AtomicLong clock = new AtomicLong(0);
    AtomicLong lastWrite = new AtomicLong(Long.MIN_VALUE);
    var schedule = new PendingListCleaner.Schedule(Duration.ofMillis(200), Duration.ofHours(1));
    try (PendingListCleaner cleaner = new PendingListCleaner(db, schedule, lastWrite::get, clock::get)) {
      write(db, 1, 2000);
      lastWrite.set(clock.get());
      clock.addAndGet(Duration.ofMillis(100).toNanos());
      cleaner.tick();
      assertThat(pendingPagesWithoutMerging(db)).as("the writer paused only 100 ms: nothing merged").isPositive();

      clock.addAndGet(Duration.ofMillis(150).toNanos());
      cleaner.tick();
      assertThat(pendingPagesWithoutMerging(db)).as("merged once the writer paused 200 ms").isZero();
    }
  }

  @Test
  void underContinuousWritesMergesOnlyWhenDue() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "gin");
    AtomicLong clock = new AtomicLong(0);
    AtomicLong lastWrite = new AtomicLong(Long.MIN_VALUE);
    var schedule = new PendingListCleaner.Schedule(Duration.ofHours(1), Duration.ofSeconds(3));
    try (PendingListCleaner cleaner = new PendingListCleaner(db, schedule, lastWrite::get, clock::get)) {
      write(db, 1, 2000);
      clock.addAndGet(Duration.ofSeconds(2).toNanos());
      lastWrite.set(clock.get()); // the writer never pauses for an hour: only atLatest applies
      cleaner.tick();
      assertThat(pendingPagesWithoutMerging(db)).as("not due yet, and the writer never paused").isPositive();

      write(db, 2001, 4000);
      clock.addAndGet(Duration.ofMillis(1500).toNanos());
      lastWrite.set(clock.get());
      cleaner.tick();
      assertThat(pendingPagesWithoutMerging(db)).as("due after atLatest even without a pause").isZero();
    }
  }

  /** Pages in the pending lists of the three GIN indexes, read without merging them (pgstattuple). */
  private static long pendingPagesWithoutMerging(ConnectionSettings db) {
    try (var c = PgConnections.open(db); var st = c.createStatement()) {
      st.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple");
    } catch (Exception e) {
      throw new IllegalStateException("cannot create pgstattuple", e);
    }
    // the leaf indexes: one per partition of a partitioned changes, the index itself on a plain one
    return WorkerHarness.count(db, "SELECT coalesce(sum((pgstatginindex(t.relid)).pending_pages), 0) FROM unnest(ARRAY["
        + "'changes_before_index', 'changes_after_index', 'changes_context_index']) i,"
        + " pg_partition_tree(i::regclass) t WHERE t.isleaf");
  }
}
