package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** From real pgoutput bytes to changes: values by type, keys, TOAST, context, ignored columns. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class ChangeAssemblerTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameter PgVersion version;

  private final AtomicInteger malformed = new AtomicInteger();

  private List<Change> changes(ColumnFilter filter, String[] setup, String... workload) throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "assembler");
    TestPostgres.shared(version).execute(db.database(), setup);
    PgOutputCapture.createSlot(db, db.database());
    TestPostgres.shared(version).execute(db.database(), workload);
    List<Change> out = new ArrayList<>();
    try (Connection source = PgConnections.open(db)) {
      ChangeAssembler assembler = new ChangeAssembler(db.database(), filter, PrimaryKeys.fromCatalog(source),
          malformed::incrementAndGet);
      for (PgOutputCapture.Captured c : PgOutputCapture.take(db, db.database(), "p", PgValues.CANONICAL_OUTPUT_SQL)) {
        assembler.accept(c.decode(), c.lsn(), 1L, out::add);
      }
    }
    return out;
  }

  private static String[] setup(String... statements) {
    return statements;
  }

  @Test
  void valuesBecomeJsonByType() throws Exception {
    List<Change> changes = changes(ColumnFilter.none(), setup(
        "CREATE TABLE t (id bigint PRIMARY KEY, i2 smallint, f float8, nan float8, n numeric, b boolean,"
            + " j json, jb jsonb, ints int[], texts text[], nested int[][], by bytea, ts timestamptz, u uuid,"
            + " txt text, nul text)",
        "ALTER TABLE t REPLICA IDENTITY FULL", "CREATE PUBLICATION p FOR TABLE t"),
        "INSERT INTO t VALUES (9007199254740993, 7, 1.5, 'NaN', 12345678901234567890.123456789012345, true,"
            + " '{\"k\": [1, 2]}', '{\"z\": null}', '{1,NULL,3}', '{\"a b\",\"c\\\"d\",NULL}', '{{1,2},{3,4}}',"
            + " '\\x00ff', '2024-01-02 03:04:05.123456+00', 'b7267340-5011-40f4-ab9a-902b68fc5b25',"
            + " e'line\\ttab', NULL)");

    assertThat(changes).hasSize(1);
    Change c = changes.get(0);
    assertThat(c.operation()).isEqualTo(Change.Operation.CREATE);
    assertThat(c.before()).isEqualTo("{}");
    assertThat(c.primaryKey()).isEqualTo("9007199254740993");
    assertThat(c.after()).contains("\"id\":9007199254740993", "\"n\":12345678901234567890.123456789012345");
    JsonNode after = JSON.readTree(c.after());
    assertThat(after.get("i2").isInt()).isTrue();
    assertThat(after.get("f").asDouble()).isEqualTo(1.5);
    assertThat(after.get("nan").asText()).isEqualTo("NaN");
    assertThat(after.get("b").booleanValue()).isTrue();
    assertThat(after.get("j").get("k").toString()).isEqualTo("[1,2]");
    assertThat(after.get("jb").toString()).isEqualTo("{\"z\":null}");
    assertThat(after.get("ints").toString()).isEqualTo("[1,null,3]");
    assertThat(after.get("texts").toString()).isEqualTo("[\"a b\",\"c\\\"d\",null]");
    assertThat(after.get("nested").toString()).isEqualTo("[[1,2],[3,4]]");
    assertThat(after.get("by").asText()).isEqualTo("\\x00ff");
    assertThat(after.get("ts").asText()).isEqualTo("2024-01-02T03:04:05.123456+00:00");
    assertThat(after.get("u").asText()).isEqualTo("b7267340-5011-40f4-ab9a-902b68fc5b25");
    assertThat(after.get("txt").asText()).isEqualTo("line\ttab");
    assertThat(after.get("nul").isNull()).isTrue();
    assertThat(c.committedAtMicros()).isGreaterThan(1_700_000_000_000_000L);
    assertThat(c.transactionId()).isPositive();
  }

  @Test
  void updatesAndDeletesCarryBeforeAndAfterWithToastFromTheOldImage() throws Exception {
    List<Change> changes = changes(ColumnFilter.none(), setup(
        "CREATE TABLE t (id int PRIMARY KEY, big text, n int)",
        "ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL",
        "ALTER TABLE t REPLICA IDENTITY FULL", "CREATE PUBLICATION p FOR TABLE t",
        "INSERT INTO t VALUES (1, repeat('x', 10000), 1)"),
        "UPDATE t SET n = 2", "DELETE FROM t", "TRUNCATE t");

    assertThat(changes).map(Change::operation).containsExactly(
        Change.Operation.UPDATE, Change.Operation.DELETE, Change.Operation.TRUNCATE);
    JsonNode before = JSON.readTree(changes.get(0).before());
    JsonNode after = JSON.readTree(changes.get(0).after());
    assertThat(before.get("n").intValue()).isEqualTo(1);
    assertThat(after.get("n").intValue()).isEqualTo(2);
    assertThat(after.get("big").asText()).hasSize(10000);
    assertThat(changes.get(0).primaryKey()).isEqualTo("1");
    assertThat(changes.get(1).after()).isEqualTo("{}");
    assertThat(JSON.readTree(changes.get(1).before()).get("n").intValue()).isEqualTo(2);
    assertThat(changes.get(1).primaryKey()).isEqualTo("1");
    assertThat(changes.get(2).primaryKey()).isNull();
    assertThat(changes.get(2).table()).isEqualTo("t");
    assertThat(changes).map(Change::position).doesNotHaveDuplicates();
  }

  @Test
  void compositeKeysAreAJsonArrayAndKeylessTablesHaveNone() throws Exception {
    List<Change> changes = changes(ColumnFilter.none(), setup(
        "CREATE TABLE comp (region text, id int, v text, PRIMARY KEY (id, region))",
        "ALTER TABLE comp REPLICA IDENTITY FULL",
        "CREATE TABLE nokey (v text)", "ALTER TABLE nokey REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE comp, nokey"),
        "INSERT INTO comp VALUES ('eu', 42, 'x')", "INSERT INTO nokey VALUES ('y')");

    assertThat(changes).map(Change::primaryKey).containsExactly("[42,\"eu\"]", null);
  }

  @Test
  void aBemiContextBelongsToTheNextRowChangeOnlyAndSequinAnnotationsToTheRestOfTheTransaction() throws Exception {
    List<Change> changes = changes(ColumnFilter.none(), setup(
        "CREATE TABLE t (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE t"),
        "BEGIN; INSERT INTO t VALUES (1);"
            + " SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"ann\"}');"
            + " INSERT INTO t VALUES (2); INSERT INTO t VALUES (3);"
            + " SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"bob\"}');"
            + " INSERT INTO t VALUES (4);"
            + " SELECT pg_logical_emit_message(true, 'not_bemi', '{\"user\": \"eve\"}');"
            + " INSERT INTO t VALUES (5); COMMIT",
        "INSERT INTO t VALUES (6)",
        "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', 'not json {'); INSERT INTO t VALUES (7); COMMIT",
        "BEGIN; SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.set', '{\"req\": \"r1\"}');"
            + " INSERT INTO t VALUES (8);"
            + " SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"cy\"}');"
            + " INSERT INTO t VALUES (9); INSERT INTO t VALUES (10);"
            + " SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.clear', '');"
            + " INSERT INTO t VALUES (11); COMMIT",
        "BEGIN; SELECT pg_logical_emit_message(true, 'sequin:transaction_annotations.set', '{\"req\": \"r2\"}');"
            + " COMMIT",
        "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"dee\"}');"
            + " INSERT INTO t VALUES (12), (13); COMMIT",
        "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"left over\"}'); COMMIT",
        "INSERT INTO t VALUES (14)");

    assertThat(changes).map(c -> c.primaryKey() + " " + c.context()).containsExactly(
        "1 {}", "2 {\"user\": \"ann\"}", "3 {}", "4 {\"user\": \"bob\"}", "5 {}", "6 {}",
        "7 {\"" + ChangeAssembler.MALFORMED_CONTEXT_KEY + "\":\"not json {\"}",
        "8 {\"req\": \"r1\"}", "9 {\"user\": \"cy\"}", "10 {\"req\": \"r1\"}", "11 {}",
        "12 {\"user\": \"dee\"}", "13 {}", "14 {}");
    assertThat(malformed.get()).isEqualTo(1);
  }

  /** Bemi's Supabase variant: {@code bemi_set_context()} sets {@code bemi.context}; a row trigger emits it per row. */
  @Test
  void bemisSupabaseVariantGivesEveryRowTheSessionContext() throws Exception {
    List<Change> changes = changes(ColumnFilter.none(), setup(
        "CREATE TABLE t (id int PRIMARY KEY, v text)", "CREATE PUBLICATION p FOR TABLE t",
        // Bemi's migration for Supabase (bemi-supabase-js), as published
        "CREATE OR REPLACE FUNCTION bemi_set_context(context text) RETURNS text AS $$ BEGIN"
            + " PERFORM set_config('bemi.context', context, false); RETURN context; END; $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE FUNCTION _bemi_pass_sb_context_func() RETURNS TRIGGER AS $$ DECLARE _bemi_context TEXT;"
            + " BEGIN SELECT current_setting('bemi.context', true) INTO _bemi_context;"
            + " IF _bemi_context IS NOT NULL THEN RAISE log 'BEMI CONTEXT: %', _bemi_context;"
            + " PERFORM pg_logical_emit_message(true, '_bemi', _bemi_context); END IF;"
            + " IF (TG_OP = 'DELETE') THEN RETURN OLD; ELSE RETURN NEW; END IF; END; $$ LANGUAGE plpgsql",
        "CREATE OR REPLACE TRIGGER _bemi_row_trigger_t BEFORE INSERT OR UPDATE OR DELETE ON t FOR EACH ROW"
            + " EXECUTE FUNCTION _bemi_pass_sb_context_func()"),
        "INSERT INTO t VALUES (1, 'a'), (2, 'b')",
        "SELECT bemi_set_context('{\"user\": \"sb\"}'); UPDATE t SET v = 'c'; DELETE FROM t WHERE id = 2;"
            + " SELECT bemi_set_context(''); INSERT INTO t VALUES (3, 'd')");

    assertThat(changes).map(c -> c.operation() + " " + c.primaryKey() + " " + c.context()).containsExactly(
        "CREATE 1 {}", "CREATE 2 {}", "UPDATE 1 {\"user\": \"sb\"}", "UPDATE 2 {\"user\": \"sb\"}",
        "DELETE 2 {\"user\": \"sb\"}", "CREATE 3 {}");
  }

  @Test
  void updatesTouchingOnlyIgnoredColumnsAreNotRecorded() throws Exception {
    List<Change> changes = changes(ColumnFilter.parse(List.of("t.updated_at", "*.touched")), setup(
        "CREATE TABLE t (id int PRIMARY KEY, name text, updated_at int, touched int)",
        "ALTER TABLE t REPLICA IDENTITY FULL", "CREATE PUBLICATION p FOR TABLE t",
        "INSERT INTO t VALUES (1, 'a', 0, 0)"),
        "UPDATE t SET updated_at = 1",
        "UPDATE t SET updated_at = 2, touched = 2",
        "UPDATE t SET updated_at = 3, name = 'b'",
        "UPDATE t SET name = 'c'");

    assertThat(changes).hasSize(2);
    assertThat(JSON.readTree(changes.get(0).after()).get("updated_at").intValue()).isEqualTo(3);
    assertThat(JSON.readTree(changes.get(1).after()).get("name").asText()).isEqualTo("c");
  }
}
