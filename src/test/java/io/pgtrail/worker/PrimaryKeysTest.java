package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Keys of changes read after their table was dropped or altered (rules in docs/values.md). */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class PrimaryKeysTest {
  @Parameter PgVersion version;

  private ConnectionSettings db;

  private void source(String... statements) throws Exception {
    db = TestPostgres.newDatabase(version, "keys");
    Db.execute(db, "CREATE PUBLICATION p FOR ALL TABLES");
    PgOutputCapture.createSlot(db, db.database());
    Db.execute(db, statements);
  }

  private List<String> keys(PrimaryKeys.Memory memory, Connection catalog) throws Exception {
    List<String> keys = new ArrayList<>();
    ChangeAssembler assembler = new ChangeAssembler(db.database(), ColumnFilter.none(),
        PrimaryKeys.fromCatalog(catalog, memory), TypeCatalog.fromCatalog(catalog), () -> { });
    for (PgOutputCapture.Captured c : PgOutputCapture.take(db, db.database(), "p")) {
      assembler.accept(c.decode(), c.lsn(), 1L, change -> keys.add(change.table() + " " + change.primaryKey()));
    }
    return keys;
  }

  @Test
  void aTableDroppedAfterTheSessionStartedIsKeyedByItsPrimaryKey() throws Exception {
    source("CREATE TABLE orders (id int, region text, n int, PRIMARY KEY (region, n))",
        "ALTER TABLE orders REPLICA IDENTITY FULL");
    try (Connection catalog = PgConnections.open(db)) {
      PrimaryKeys.Memory memory = new PrimaryKeys.Memory();
      PrimaryKeys.fromCatalog(catalog, memory); // a session starts while the table exists
      Db.execute(db, "INSERT INTO orders VALUES (7, 'eu', 1)", "UPDATE orders SET id = 8",
          "DELETE FROM orders", "DROP TABLE orders");

      assertThat(keys(memory, catalog)).containsExactly(
          "orders [\"eu\",1]", "orders [\"eu\",1]", "orders [\"eu\",1]");
    }
  }

  @Test
  void aTableNeverSeenInTheCatalogIsKeyedByItsIdentityOrItsIdColumn() throws Exception {
    source("CREATE TABLE plain (code text PRIMARY KEY, v int)",
        "CREATE TABLE full_with_id (id bigint, other int PRIMARY KEY)", "ALTER TABLE full_with_id REPLICA IDENTITY FULL",
        "CREATE TABLE full_without_id (other int PRIMARY KEY)", "ALTER TABLE full_without_id REPLICA IDENTITY FULL",
        "INSERT INTO plain VALUES ('a', 1)", "INSERT INTO full_with_id VALUES (42, 1)",
        "INSERT INTO full_without_id VALUES (1)",
        "DROP TABLE plain, full_with_id, full_without_id");
    try (Connection catalog = PgConnections.open(db)) {
      assertThat(keys(new PrimaryKeys.Memory(), catalog)).containsExactly(
          "plain a", "full_with_id 42", "full_without_id null");
    }
  }

  @Test
  void aNewSessionForgetsTheKeysDeclaredByTransactionsItWillReplay() {
    PrimaryKeys.Memory memory = new PrimaryKeys.Memory();
    memory.declare(new KeyDeclaration(1, "public", "t1", List.of("a"), 100));
    memory.declare(new KeyDeclaration(2, "public", "t2", List.of("b"), 300));
    memory.forgetDeclaredAfter(200);
    assertThat(memory.declared(1)).containsExactly("a");
    assertThat(memory.declared(2)).as("committed after the slot's confirmed position: read again").isNull();
  }

  @Test
  void declarationsRestoredFromTheDestinationNeverReplaceALaterOne() {
    PrimaryKeys.Memory memory = new PrimaryKeys.Memory();
    memory.declare(new KeyDeclaration(1, "public", "t1", List.of("b"), 500));
    memory.restore(List.of(new KeyDeclaration(1, "public", "t1", List.of("a"), 100),
        new KeyDeclaration(2, "public", "t2", List.of("c", "d"), 200)));
    assertThat(memory.declared(1)).as("this process read a later one").containsExactly("b");
    assertThat(memory.declared(2)).as("kept by an earlier process").containsExactly("c", "d");
  }

  @Test
  void keysFollowTheCatalogWhenThePrimaryKeyChanges() throws Exception {
    source("CREATE TABLE t (a int PRIMARY KEY, b int NOT NULL)", "ALTER TABLE t REPLICA IDENTITY FULL",
        "INSERT INTO t VALUES (1, 10)");
    try (Connection catalog = PgConnections.open(db)) {
      PrimaryKeys.Memory memory = new PrimaryKeys.Memory();
      assertThat(keys(memory, catalog)).containsExactly("t 1");
      Db.execute(db, "ALTER TABLE t DROP CONSTRAINT t_pkey", "ALTER TABLE t ADD PRIMARY KEY (b)",
          "INSERT INTO t VALUES (2, 20)");
      assertThat(keys(memory, catalog)).containsExactly("t 20");
    }
  }
}
