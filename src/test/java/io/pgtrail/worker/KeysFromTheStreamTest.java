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
