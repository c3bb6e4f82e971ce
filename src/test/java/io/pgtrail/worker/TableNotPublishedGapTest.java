package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A table the event trigger could not publish is a gap in the trail, and the trail says so: two sessions
 * creating tables at the same moment (the second's ALTER PUBLICATION runs into the 50 ms lock_timeout) and
 * a table that loses its replica identity each give a TableNotPublished gap record; the user's statement
 * succeeds, the worker goes on, and the next setup run publishes the table. A table created while the
 * trigger does not fire ({@code session_replication_role = replica}) leaves no trace then; the setup run that
 * publishes it writes one, as it does for the raced table. An uncontended CREATE TABLE gives no gap record.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class TableNotPublishedGapTest {
  @Parameter PgVersion version;

  @Test
  void aTableTheTriggerCouldNotPublishIsAGapRecordAndJoinsAtTheNextSetup() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    String creator = "creator_" + source.database();
    Db.execute(source, "CREATE TABLE docs (id int PRIMARY KEY)",
        "CREATE ROLE " + creator + " LOGIN PASSWORD 'pw'", "GRANT CREATE ON SCHEMA public TO " + creator);
    setup(source);
    ConnectionSettings asCreator = source.withUser(creator, "pw");

    try (WorkerHarness h = new WorkerHarness(WorkerHarness.settings(source, destination, source.database(),
        ColumnFilter.none(), 100, null), true, true)) {
      Db.execute(asCreator, "CREATE TABLE quiet (id int PRIMARY KEY)", "INSERT INTO quiet VALUES (1)");
      await().atMost(Duration.ofSeconds(20)).until(() -> rows(destination, "quiet") == 1);
      assertThat(gapRecords(destination, "true")).as("no gap record when the trigger published the table").isZero();

      List<String> warnings = createWhileThePublicationIsBusy(source, asCreator,
          "CREATE TABLE raced (id int PRIMARY KEY); INSERT INTO raced VALUES (1)");
      assertThat(warnings).as("the statement succeeded, with the trigger's warning")
          .anyMatch(w -> w.startsWith("pgtrail: ") && w.contains("lock timeout"));
      Db.execute(asCreator, "CREATE TABLE loses_identity (v text)",
          "ALTER TABLE loses_identity REPLICA IDENTITY NOTHING");

      await().atMost(Duration.ofSeconds(20)).until(() -> gapRecords(destination, "true") == 2);
      assertThat(gapRecords(destination, "gap->>'schema' = 'public' AND gap->>'table' = 'raced'"
          + " AND gap->>'detail' LIKE '%lock timeout (SQLSTATE 55P03)%' AND gap->'to_position' = 'null'"))
          .isEqualTo(1);
      assertThat(gapRecords(destination, "gap->>'table' = 'loses_identity'"
          + " AND gap->>'detail' LIKE 'no usable replica identity%'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'MESSAGE'"
          + " AND \"schema\" = '' AND \"table\" = '' AND primary_key IS NULL AND transaction_id > 0"
          + " AND \"position\" = (context #>> '{pgtrail,gap,from_position}')::bigint")).isEqualTo(2);
      assertThat(h.metrics.gapRecords.labelValues("TableNotPublished").get()).isEqualTo(2.0);
      assertThat(rows(destination, "raced")).as("the gap the record speaks of").isZero();
      assertThat(h.worker.status().state()).as("one table's gap does not stop the trail (onGap: stop)")
          .isNotEqualTo(WorkerStatus.State.STOPPED);

      try (Connection restore = PgConnections.open(source); Statement s = restore.createStatement()) {
        s.execute("SET session_replication_role = replica"); // as replication tools set it: no event trigger fires
        s.execute("CREATE TABLE restored (id int PRIMARY KEY)");
        s.execute("INSERT INTO restored VALUES (1)");
      }

      setup(source); // the operator's next reconcile
      Db.execute(source, "INSERT INTO raced VALUES (2)", "INSERT INTO restored VALUES (2)",
          "INSERT INTO docs VALUES (2)");
      await().atMost(Duration.ofSeconds(20)).until(() -> rows(destination, "docs") == 1);
      assertThat(rows(destination, "raced")).as("published by the setup run").isEqualTo(1);
      assertThat(rows(destination, "restored")).as("the row after the setup run").isEqualTo(1);
      assertThat(Db.scalar(source, "SELECT relreplident::text FROM pg_class WHERE oid = 'raced'::regclass"))
          .as("the identity the trigger's rolled-back block did not keep, set by the setup run").isEqualTo("f");
      for (String table : List.of("raced", "restored")) {
        assertThat(gapRecords(destination, "gap->>'table' = '" + table + "'"
            + " AND gap->>'detail' LIKE 'published late by setup%' AND (gap->>'from_position')::bigint < (SELECT"
            + " \"position\" FROM changes WHERE \"table\" = '" + table + "')"))
            .as("the setup run that published %s says where its gap ends", table).isEqualTo(1);
      }
      assertThat(gapRecords(destination, "true")).isEqualTo(4);
      assertThat(h.worker.isAlive()).isTrue();
    }
  }

  private static void setup(ConnectionSettings source) throws Exception {
    try (Connection c = PgConnections.open(source)) {
      SetupExecutor.apply(c, new SetupRequest("p", source.database(), Provider.SELF_MANAGED,
          TrackingScope.schemas("public"), true, false, "uid-1", null));
    }
  }

  /**
   * Runs {@code sql} while another session holds what ALTER PUBLICATION ... ADD TABLE needs: on PostgreSQL
   * 15+ the publication itself, locked by a concurrent CREATE TABLE whose trigger published its table (the
   * race as it happens); PostgreSQL 14 does not lock the publication, so there the catalog it writes to.
   */
  private List<String> createWhileThePublicationIsBusy(ConnectionSettings source, ConnectionSettings as, String sql)
      throws Exception {
    try (Connection holder = PgConnections.open(source); Connection user = PgConnections.open(as)) {
      holder.setAutoCommit(false);
      holder.createStatement().execute(version.major() >= 15 ? "CREATE TABLE concurrent (id int PRIMARY KEY)"
          : "LOCK TABLE pg_catalog.pg_publication_rel IN SHARE ROW EXCLUSIVE MODE");
      List<String> warnings = new ArrayList<>();
      try (Statement s = user.createStatement()) {
        s.execute(sql);
        for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
          warnings.add(w.getMessage());
        }
      }
      holder.commit();
      return warnings;
    }
  }

  private static long gapRecords(ConnectionSettings destination, String where) {
    return WorkerHarness.count(destination, "SELECT count(*) FROM (SELECT context #> '{pgtrail,gap}' AS gap"
        + " FROM changes WHERE operation = 'MESSAGE') g WHERE gap->>'reason' = 'TableNotPublished'"
        + " AND (gap->>'from_position')::bigint > 0 AND " + where);
  }

  private static long rows(ConnectionSettings destination, String table) {
    return WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE \"table\" = '" + table + "'");
  }
}
