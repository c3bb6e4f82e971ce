package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.GeneratedColumns;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.preflight.CheckId;
import io.pgtrail.postgres.preflight.CheckResult;
import io.pgtrail.postgres.preflight.CheckStatus;
import io.pgtrail.postgres.preflight.Preflight;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Generated columns under pgtrail's setup. PostgreSQL 18 rejects UPDATE and DELETE on a published table whose
 * REPLICA IDENTITY FULL holds an unpublished generated column; setup must never let that happen: on 18 it
 * publishes stored generated columns (so they are recorded there, not before 18) and leaves tables with virtual
 * ones (18's default kind, never publishable) at their own replica identity.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class GeneratedColumnsTest {
  @Parameter PgVersion version;

  @Test
  void userStatementsKeepWorkingAndStoredColumnsAreRecordedWherePublishable() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = TestPostgres.newDatabase(server, "gen_src");
    boolean pg18 = version.major() >= GeneratedColumns.FIRST_MAJOR;
    server.execute(source.database(),
        "CREATE TABLE lines (id int PRIMARY KEY, qty int NOT NULL, doubled int GENERATED ALWAYS AS (qty * 2) STORED)",
        pg18 ? "CREATE TABLE notes (id int PRIMARY KEY, body text, size int GENERATED ALWAYS AS (length(body)))"
            : "CREATE TABLE notes (id int PRIMARY KEY, body text)",
        "CREATE TABLE later (id int PRIMARY KEY, n int)");
    SetupRequest request = new SetupRequest("p", source.database(), Provider.SELF_MANAGED,
        TrackingScope.schemas("public"), true, false, "uid-gen", null);
    try (Connection c = PgConnections.open(source)) {
      SetupExecutor.apply(c, request);
      CheckResult virtual = Preflight.run(c, source, request).check(CheckId.VIRTUAL_GENERATED_COLUMNS).orElseThrow();
      assertThat(virtual.status()).isEqualTo(pg18 ? CheckStatus.WARNING : CheckStatus.SKIPPED);
      if (pg18) {
        assertThat(virtual.observed()).contains("\"public\".\"notes\"");
      }
    }
    ConnectionSettings destination = TestPostgres.newDatabase(server, "gen_dst");
    try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 100)) {
      // none of these may fail because of pgtrail's setup
      server.execute(source.database(),
          "INSERT INTO lines (id, qty) VALUES (1, 5)",
          "UPDATE lines SET qty = 6 WHERE id = 1",
          "INSERT INTO notes (id, body) VALUES (1, 'hi')",
          "UPDATE notes SET body = 'hello' WHERE id = 1",
          "DELETE FROM notes WHERE id = 1",
          "DELETE FROM lines WHERE id = 1",
          "INSERT INTO later VALUES (1, 1)");
      h.awaitRecorded(7, Duration.ofSeconds(20));
      if (pg18) {
        // a virtual column added to a FULL-identity table: the event trigger takes the table out of the
        // publication inside the ALTER, so the application's UPDATE still works
        server.execute(source.database(), "ALTER TABLE later ADD COLUMN twice int GENERATED ALWAYS AS (n * 2) VIRTUAL",
            "UPDATE later SET n = 2");
        try (Connection c = PgConnections.open(source)) {
          SetupExecutor.apply(c, request); // the next setup run: FULL back to DEFAULT, tracked again
        }
        server.execute(source.database(), "UPDATE later SET n = 3", "DELETE FROM later");
        h.awaitRecorded(9, Duration.ofSeconds(20));
      }
    }
    assertThat(Db.column(destination, "SELECT operation || ' ' || coalesce(nullif(before::text, '{}'), '-') || ' '"
        + " || coalesce(nullif(after::text, '{}'), '-') FROM changes WHERE \"table\" = 'later' ORDER BY position"))
        .containsExactlyElementsOf(pg18
            ? List.of("CREATE - {\"n\": 1, \"id\": 1}", "UPDATE - {\"n\": 3, \"id\": 1}", "DELETE {\"id\": 1} -")
            : List.of("CREATE - {\"n\": 1, \"id\": 1}")); // jsonb orders keys by length
    List<String> recorded = Db.column(destination, "SELECT \"table\" || ' ' || operation || ' '"
        + " || coalesce(nullif(before::text, '{}'), '-') || ' ' || coalesce(nullif(after::text, '{}'), '-')"
        + " FROM changes WHERE \"table\" <> 'later' ORDER BY position");
    String stored = pg18 ? ", \"doubled\": 10" : "";
    String storedAfterUpdate = pg18 ? ", \"doubled\": 12" : "";
    assertThat(recorded).containsExactly(
        "lines CREATE - {\"id\": 1, \"qty\": 5" + stored + "}",
        "lines UPDATE {\"id\": 1, \"qty\": 5" + stored + "} {\"id\": 1, \"qty\": 6" + storedAfterUpdate + "}",
        "notes CREATE - {\"id\": 1, \"body\": \"hi\"}",
        // with a virtual column the table keeps its primary key as identity: before holds only the key
        pg18 ? "notes UPDATE - {\"id\": 1, \"body\": \"hello\"}"
            : "notes UPDATE {\"id\": 1, \"body\": \"hi\"} {\"id\": 1, \"body\": \"hello\"}",
        pg18 ? "notes DELETE {\"id\": 1} -" : "notes DELETE {\"id\": 1, \"body\": \"hello\"} -",
        "lines DELETE {\"id\": 1, \"qty\": 6" + storedAfterUpdate + "} -");
  }
}
