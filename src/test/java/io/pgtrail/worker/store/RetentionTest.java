package io.pgtrail.worker.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.WorkerHarness;
import io.pgtrail.worker.sink.ChangeSink;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PartitionPeriod;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Retention with a fake clock: the store is laid out daily as of a day in the past, holds a change on each
 * day, and the maintenance then runs with the clock ten days later.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class RetentionTest {
  static final Instant START = Instant.parse("2026-01-10T12:00:00Z");

  @Parameter PgVersion version;

  /** Daily partitions 2026-01-10 .. 2026-01-14 (two ahead), a change on each day, and one in the default. */
  private ConnectionSettings store() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "retention");
    try (Connection c = PgConnections.open(db)) {
      ChangesTable.ensure(c, new ChangesTable.Layout(PartitionPeriod.DAILY, 4), START);
    }
    try (ChangeSink sink = ChangesStoreTest.sink(db)) {
      for (int day = 0; day < 5; day++) {
        sink.add(ChangesStoreTest.change(day + 1, START.plus(day, ChronoUnit.DAYS)));
      }
      sink.add(ChangesStoreTest.change(99, Instant.parse("2020-01-01T00:00:00Z")));
      sink.flush(0, 0);
    }
    return db;
  }

  private static StoreMaintenance maintenance(ConnectionSettings db, StoreSettings.RetentionMode mode,
      Instant now, PrometheusRegistry registry) {
    StoreSettings settings = new StoreSettings(new ChangesTable.Layout(PartitionPeriod.DAILY, 1), Duration.ofDays(7),
        mode);
    return new StoreMaintenance(db, settings, Clock.fixed(now, ZoneOffset.UTC), registry);
  }

  @Test
  void dropsOnlyThePartitionsOlderThanTheRetentionAndRecordsEachInTheTrail() throws Exception {
    ConnectionSettings db = store();
    PrometheusRegistry registry = new PrometheusRegistry();
    // 2026-01-19T12:00 minus 7 days = 2026-01-12T12:00: the partitions of the 10th and 11th end before it
    List<Retention.Removed> removed;
    try (StoreMaintenance m = maintenance(db, StoreSettings.RetentionMode.DROP, Instant.parse("2026-01-19T12:00:00Z"),
        registry)) {
      removed = m.runOnce();
      assertThat(m.runOnce()).isEmpty(); // nothing more to do
    }
    assertThat(removed).extracting(Retention.Removed::partition)
        .containsExactly("changes_p20260110", "changes_p20260111");
    try (Connection c = PgConnections.open(db)) {
      List<String> names = ChangesStoreTest.partitionNames(c);
      assertThat(names).doesNotContain("changes_p20260110", "changes_p20260111")
          .contains("changes_p20260112", "changes_p20260119", "changes_p20260120", "changes_default");
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM pg_class WHERE relname = 'changes_p20260110'")).isZero();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT \"table\", context->'pgtrail'->'retention'->>'action',"
          + " (context->'pgtrail'->'retention'->>'to')::timestamptz = '2026-01-11T00:00:00Z', \"schema\""
          + " FROM changes WHERE operation = 'MESSAGE' ORDER BY 1")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("changes_p20260110");
        assertThat(rs.getString(2)).isEqualTo("drop");
        assertThat(rs.getBoolean(3)).isTrue();
        assertThat(rs.getString(4)).isEqualTo("pgtrail");
        assertThat(rs.next()).isTrue();
        assertThat(rs.next()).isFalse();
      }
    }
    // the changes of the 12th to the 14th stay, and so does the default partition's old row
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes WHERE operation = 'CREATE'")).isEqualTo(4);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_default WHERE operation = 'CREATE'")).isEqualTo(1);
    assertThat(removedCounter(registry, "drop")).isEqualTo(2);
  }

  @Test
  void detachModeKeepsTheExpiredPartitionsAsPlainTablesOutOfChanges() throws Exception {
    ConnectionSettings db = store();
    PrometheusRegistry registry = new PrometheusRegistry();
    try (StoreMaintenance m = maintenance(db, StoreSettings.RetentionMode.DETACH,
        Instant.parse("2026-01-18T00:00:00Z"), registry)) {
      assertThat(m.runOnce()).extracting(Retention.Removed::partition).containsExactly("changes_p20260110");
    }
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_p20260110")).isEqualTo(1);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes WHERE operation = 'CREATE'")).isEqualTo(5);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM pg_class WHERE relname = 'changes_p20260110'"
        + " AND NOT relispartition AND relkind = 'r'")).isEqualTo(1);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes WHERE operation = 'MESSAGE'"
        + " AND context->'pgtrail'->'retention'->>'action' = 'detach'")).isEqualTo(1);
    assertThat(removedCounter(registry, "detach")).isEqualTo(1);
  }

  private static double removedCounter(PrometheusRegistry registry, String action) {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getName().equals("pgtrail_worker_store_partitions_removed"))
        .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
        .filter(d -> action.equals(d.getLabels().get("action")))
        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
        .sum();
  }
}
