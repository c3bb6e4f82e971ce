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
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Under REPLICA IDENTITY FULL the Relation message flags every column, so the event trigger sends each
 * published table's primary key in the transaction of its CREATE TABLE and ALTER TABLE (docs/values.md,
 * "Primary keys"). Everything here happens while the worker is stopped, so the catalog it reads when it
 * starts is of no help: a table with a composite key that is dropped (created and written in one
 * transaction), a table whose key changes between two
 * writes, and a table without a key (it has an {@code id} column, which must not stand in for a key).
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class KeysFromTheStreamTest {
  @Parameter PgVersion version;

  @Test
  void changesReadAfterTheirTableWasDroppedOrAlteredAreKeyedAsTheTableWasAtTheirTime() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    try (Connection c = PgConnections.open(source)) {
      SetupExecutor.apply(c, new SetupRequest("p", source.database(), Provider.SELF_MANAGED,
          TrackingScope.schemas("public"), true, false, "uid-1", null));
    }

    Db.execute(source,
        "CREATE TABLE stock (id int, tenant text, code text, n int, PRIMARY KEY (tenant, code));" // one transaction
            + " INSERT INTO stock VALUES (1, 'acme', 'x-1', 5); UPDATE stock SET n = 6; DELETE FROM stock",
        "DROP TABLE stock",
        "CREATE TABLE moves (a int PRIMARY KEY, b int NOT NULL)", "INSERT INTO moves VALUES (1, 10)",
        "ALTER TABLE moves DROP CONSTRAINT moves_pkey, ADD PRIMARY KEY (b)", "INSERT INTO moves VALUES (2, 20)",
        "CREATE TABLE notes (id int, body text)", "INSERT INTO notes VALUES (7, 'no key')", "DROP TABLE notes");

    try (WorkerHarness h = new WorkerHarness(WorkerHarness.settings(source, destination, source.database(),
        ColumnFilter.none(), 100, null), true, true)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> h.recorded() >= 6);
      SoftAssertions soft = new SoftAssertions();
      soft.assertThat(keys(destination, "stock")).as("a composite key, the table dropped")
          .containsExactly("CREATE [\"acme\",\"x-1\"]", "UPDATE [\"acme\",\"x-1\"]", "DELETE [\"acme\",\"x-1\"]");
      soft.assertThat(keys(destination, "moves")).as("each change keyed by the key of its time")
          .containsExactly("CREATE 1", "CREATE 20");
      soft.assertThat(keys(destination, "notes")).as("no primary key: NULL, as while the table lives, not its id")
          .containsExactly("CREATE null");
      soft.assertAll();
      assertThat(h.recorded()).isEqualTo(6);
    }
  }

  /**
   * Declarations outlive the worker process (pgtrail_keys): a worker reads a table's key and stops; while
   * it is stopped the table is written, its key altered, written again; a new worker (its memory empty, the
   * catalog holding only the new key) keys each change by the key of its time. Without the table it keys the
   * write before the ALTER by the new key ("CREATE 20").
   */
  @Test
  void aRestartedWorkerKeysChangesBeforeAnAlterMadeWhileItWasStoppedByTheKeyItKept() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    String slot = source.database();
    try (Connection c = PgConnections.open(source)) {
      SetupExecutor.apply(c, new SetupRequest("p", slot, Provider.SELF_MANAGED,
          TrackingScope.schemas("public"), true, false, "uid-1", null));
    }
    Worker.Settings settings = WorkerHarness.settings(source, destination, slot, ColumnFilter.none(), 100, null);
    Db.execute(source, "CREATE TABLE moves (a int PRIMARY KEY, b int NOT NULL)", "INSERT INTO moves VALUES (1, 10)");
    try (WorkerHarness first = new WorkerHarness(settings, true, false)) {
      first.awaitRecorded(1, Duration.ofSeconds(30));
    }
    assertThat(declarations(destination)).containsExactly("moves {a}");
    assertThat(WorkerHarness.confirmedFlush(source, slot)).as("the next stream starts after the CREATE TABLE")
        .isGreaterThan(WorkerHarness.count(destination, "SELECT max(\"position\") FROM pgtrail_keys"));

    Db.execute(source, "INSERT INTO moves VALUES (2, 20)",
        "ALTER TABLE moves DROP CONSTRAINT moves_pkey, ADD PRIMARY KEY (b)", "INSERT INTO moves VALUES (3, 30)");
    try (WorkerHarness second = new WorkerHarness(settings, true, true)) {
      second.awaitRecorded(3, Duration.ofSeconds(30));
      assertThat(keys(destination, "moves")).containsExactly("CREATE 1", "CREATE 2", "CREATE 30");
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(declarations(destination)).containsExactly("moves {a}", "moves {b}"));
    }
  }

  private static List<String> declarations(ConnectionSettings destination) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT \"table\", key_columns::text FROM pgtrail_keys ORDER BY \"position\"")) {
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getString(2));
      }
    }
    return rows;
  }

  private static List<String> keys(ConnectionSettings destination, String table) throws Exception {
    List<String> keys = new ArrayList<>();
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT operation, primary_key FROM changes WHERE \"table\" = '" + table
            + "' ORDER BY \"position\"")) {
      while (rs.next()) {
        keys.add(rs.getString(1) + " " + rs.getString(2));
      }
    }
    return keys;
  }
}
