package io.pgtrail.worker.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.Change;
import io.pgtrail.worker.WorkerHarness;
import io.pgtrail.worker.sink.ChangeSink;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PartitionPeriod;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The partitioned changes table against a real destination: partitions ahead, default partition, replays, ids. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class ChangesStoreTest {
  static final Instant NOW = Instant.parse("2026-11-26T15:30:00Z"); // a Thursday

  @Parameter PgVersion version;

  static Change change(long position, Instant committedAt) {
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, committedAt);
    return new Change("src", "public", "orders", Long.toString(position), Change.Operation.CREATE, "{}",
        "{\"n\": " + position + "}", "{}", micros, micros, 7, position);
  }

  static ChangeSink sink(ConnectionSettings db) throws Exception {
    return new ChangeSink(PgConnections.open(db), "store_test", (schema, table, operation, count) -> { }, (change, sqlState, setAside) -> { });
  }

  static List<String> partitionNames(Connection c) throws Exception {
    List<String> names = new ArrayList<>();
    for (ChangesPartitions.Partition p : ChangesPartitions.list(c)) {
      names.add(p.name());
    }
    return names;
  }

  @Test
  void createsPartitionsAheadAndADefaultPartitionSoFarPastAndFutureWritesLand() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "store");
    try (Connection c = PgConnections.open(db)) {
      ChangesTable.ensure(c, new ChangesTable.Layout(PartitionPeriod.WEEKLY, 2), NOW);
      assertThat(partitionNames(c)).containsExactly("changes_p20261123", "changes_p20261130", "changes_p20261207",
          "changes_default");
      ChangesPartitions.Partition first = ChangesPartitions.list(c).get(0);
      assertThat(first.from()).isEqualTo(Instant.parse("2026-11-23T00:00:00Z"));
      assertThat(first.to()).isEqualTo(Instant.parse("2026-11-30T00:00:00Z"));

      // idempotent, and a later run (next week) adds only what is missing
      ChangesTable.ensure(c, new ChangesTable.Layout(PartitionPeriod.WEEKLY, 2), NOW);
      assertThat(ChangesPartitions.ensureAhead(c, PartitionPeriod.WEEKLY, NOW.plus(7, ChronoUnit.DAYS), 2))
          .containsExactly("changes_p20261214");

      try (ChangeSink sink = sink(db)) {
        sink.add(change(1, Instant.parse("1999-01-01T00:00:00Z")));
        sink.add(change(2, NOW));
        sink.add(change(3, Instant.parse("2199-12-31T23:59:59Z")));
        assertThat(sink.flush(0, 0).inserted()).isEqualTo(3);
      }
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(3);
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_default")).isEqualTo(2);
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_p20261123")).isEqualTo(1);

      // a partition created later for a range the default partition holds rows of takes those rows along
      ChangesPartitions.create(c, "changes_p19981228", Instant.parse("1998-12-28T00:00:00Z"),
          Instant.parse("1999-01-04T00:00:00Z"));
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_p19981228")).isEqualTo(1);
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_default")).isEqualTo(1);
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(3);
    }
  }

  @Test
  void replaysAreAbsorbedOnThePartitionedTable() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "store");
    Instant now = Instant.now();
    try (Connection c = PgConnections.open(db); ChangeSink sink = sink(db)) {
      assertThat(ChangesTable.isPartitioned(c)).isTrue();
      for (int i = 1; i <= 3; i++) {
        sink.add(change(i, now));
      }
      sink.add(change(4, Instant.parse("1999-01-01T00:00:00Z"))); // default partition
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(4, 4, false, 0, 0));
      // after a restart the source sends the unacknowledged changes again, with their original commit times
      for (int i = 2; i <= 6; i++) {
        sink.add(change(i, i == 4 ? Instant.parse("1999-01-01T00:00:00Z") : now));
      }
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(5, 2, true, 0, 0));
    }
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(6);
    assertThat(WorkerHarness.count(db, "SELECT count(DISTINCT position) FROM changes")).isEqualTo(6);
  }

  @Test
  void idsAreUniqueVersion7UuidsInWriteOrder() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "store");
    Instant now = Instant.now();
    try (ChangeSink sink = sink(db)) {
      for (int batch = 0; batch < 3; batch++) {
        for (int i = 0; i < 2000; i++) {
          sink.add(change(batch * 2000L + i, now));
        }
        sink.flush(0, 0);
      }
    }
    try (Connection c = PgConnections.open(db); ResultSet rs = c.createStatement().executeQuery(
        "SELECT id FROM changes ORDER BY position")) {
      UUID previous = null;
      int n = 0;
      while (rs.next()) {
        UUID id = (UUID) rs.getObject(1);
        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        if (previous != null) {
          assertThat(id).isGreaterThan(previous); // ids of one worker strictly increase, also as uuid bytes
        }
        previous = id;
        n++;
      }
      assertThat(n).isEqualTo(6000);
    }
  }
}
