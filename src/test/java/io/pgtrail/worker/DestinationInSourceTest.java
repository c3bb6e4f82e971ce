package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One database, one {@code changes} table: the destination is the tracked database itself. Setup keeps
 * pgtrail's tables out of the publication, and the worker drops changes to them should they be published
 * anyway (by hand, or by a publication that predates them): one INSERT gives one row, and stays one.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class DestinationInSourceTest {
  @Parameter PgVersion version;

  @Test
  void oneInsertGivesExactlyOneRowAndStaysOne() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "onedb");
    String slot = db.database();
    Db.execute(db, "CREATE TABLE orders (id int PRIMARY KEY, status text)");
    setup(db, slot);
    try (WorkerHarness h = new WorkerHarness(db, db, slot, ColumnFilter.none(), 1000)) {
      assertThat(published(db)).as("the worker's changes table was created after setup, under tracking")
          .containsExactly("public.orders");

      Db.execute(db, "INSERT INTO orders VALUES (1, 'new')");
      h.awaitRecorded(1, Duration.ofSeconds(20));
      awaitCaughtUp(db, slot);
      assertThat(h.recorded()).isEqualTo(1);

      // the second guard: pgtrail's tables published by hand, and setup run again does not keep them out
      Db.execute(db, "ALTER PUBLICATION p ADD TABLE changes");
      Db.execute(db, "INSERT INTO orders VALUES (2, 'new')");
      h.awaitRecorded(2, Duration.ofSeconds(20));
      awaitCaughtUp(db, slot);
      awaitCaughtUp(db, slot);
      assertThat(h.recorded()).isEqualTo(2);
      assertThat(Db.column(db, "SELECT \"table\" FROM changes ORDER BY id")).containsOnly("orders");
    }
    setup(db, slot);
    assertThat(published(db)).containsExactly("public.orders");
  }

  @Test
  void partitionsAreRecordedUnderTheRootWithCompleteImagesAndAMoveIsADeleteThenACreate() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "parts");
    String slot = db.database();
    Db.execute(db, "CREATE TABLE events (id int, at int, note text, doc text) PARTITION BY RANGE (at)",
        "CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (200)");
    setup(db, slot);
    try (WorkerHarness h = new WorkerHarness(db, db, slot, ColumnFilter.none(), 1000)) {
      // a value stored out of line (TOAST): random, so it does not compress below the threshold
      Db.execute(db, "INSERT INTO events SELECT 1, 5, 'a', string_agg(md5(random()::text), '') FROM generate_series(1, 400)",
          "UPDATE events SET note = 'b' WHERE id = 1",
          "UPDATE events SET at = 150 WHERE id = 1");
      h.awaitRecorded(4, Duration.ofSeconds(20));

      assertThat(Db.column(db, "SELECT operation || ' ' || \"table\" || ' ' || coalesce(length(before ->> 'doc'), 0)"
          + " || ' ' || coalesce(length(after ->> 'doc'), 0) || ' ' || coalesce(before ->> 'at', '-') || '>'"
          + " || coalesce(after ->> 'at', '-') FROM changes ORDER BY position, id")).containsExactly(
          "CREATE events 0 12800 ->5",
          "UPDATE events 12800 12800 5>5",
          "DELETE events 12800 0 5>-",
          "CREATE events 0 12800 ->150");
    }
  }

  private static void setup(ConnectionSettings db, String slot) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      SetupExecutor.apply(c, new SetupRequest("p", slot, Provider.SELF_MANAGED, TrackingScope.schemas("public"),
          true, false, "uid-onedb", null));
    }
  }

  private static java.util.List<String> published(ConnectionSettings db) {
    return Db.column(db, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = 'p'"
        + " ORDER BY 1");
  }

  /** The worker has confirmed everything written so far, its own writes included. */
  private static void awaitCaughtUp(ConnectionSettings db, String slot) throws Exception {
    long now = WorkerHarness.currentLsn(db);
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
        .until(() -> WorkerHarness.confirmedFlush(db, slot) >= now);
  }
}
