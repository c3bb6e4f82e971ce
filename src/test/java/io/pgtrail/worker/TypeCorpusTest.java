package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.SqlScript;
import io.pgtrail.testing.TestPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PostgreSQL as the oracle for values: every row of the type corpus (src/test/resources/values), as the
 * worker assembles it from real pgoutput, equals {@code to_jsonb(t)} of the source row, except the
 * documented rules of docs/values.md (generated columns before PostgreSQL 18).
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class TypeCorpusTest {
  private static final Pattern CREATE_TABLE = Pattern.compile("^CREATE TABLE (\\w+)", Pattern.MULTILINE);
  private static final List<String> GENERATED_COLUMNS = List.of("doubled", "label");

  @Parameter PgVersion version;

  @Test
  void everyRecordedRowEqualsToJsonbOfTheSourceRow() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "types");
    Db.execute(db, "ALTER DATABASE " + db.database() + " SET TimeZone = 'UTC'",
        "CREATE PUBLICATION p FOR ALL TABLES" + (version.major() >= 18 ? " WITH (publish_generated_columns = stored)" : ""));
    PgOutputCapture.createSlot(db, db.database());
    List<String> tables = runCorpus(db);

    List<Change> changes = assemble(db);

    SoftAssertions softly = new SoftAssertions();
    Map<String, Change> latest = new LinkedHashMap<>();
    for (Change c : changes) {
      latest.put(c.table() + "/" + c.primaryKey(), c);
    }
    int compared = 0;
    for (String table : tables) {
      for (List<Object> row : Db.rows(db, "SELECT id::text, (to_jsonb(oracle_row)" + withoutUnpublished(table)
          + ")::text FROM " + table + " oracle_row ORDER BY id")) {
        Change recorded = latest.get(table + "/" + row.get(0));
        softly.assertThat(recorded).as("%s id %s recorded", table, row.get(0)).isNotNull();
        if (recorded != null) {
          softly.assertThat(normalized(db, recorded.after())).as("%s id %s", table, row.get(0)).isEqualTo(row.get(1));
          compared++;
        }
      }
    }
    softly.assertAll();
    assertThat(compared).isGreaterThan(30);
    assertUnchangedToastKeptInBothImages(db, changes);
  }

  @Test
  void typesAlteredOrDroppedBeforeTheirChangesAreReadFollowTheDocumentedRules() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "types_ddl");
    Db.execute(db, "CREATE PUBLICATION p FOR ALL TABLES",
        "CREATE TYPE pr AS (a text, b int)", "CREATE TABLE t (id int PRIMARY KEY, p pr, ps pr[])",
        "CREATE TYPE gone_mood AS ENUM ('sad')", "CREATE DOMAIN gone_int AS int",
        "CREATE TABLE u (id int PRIMARY KEY, m gone_mood, n gone_int)");
    PgOutputCapture.createSlot(db, db.database());
    Db.execute(db, "INSERT INTO t VALUES (1, ROW('x', 1), ARRAY[ROW('x', 1)::pr])",
        "ALTER TYPE pr ADD ATTRIBUTE c int",
        "INSERT INTO t VALUES (2, ROW('y', 2, 3), ARRAY[ROW('y', 2, 3)::pr])",
        "INSERT INTO u VALUES (1, 'sad', 5)", "DROP TABLE u", "DROP TYPE gone_mood", "DROP DOMAIN gone_int");

    List<String> after = assemble(db).stream().map(c -> normalized(db, c.after()).toString()).toList();

    assertThat(after).containsExactly(
        "{\"p\": {\"a\": \"x\", \"b\": 1}, \"id\": 1, \"ps\": [{\"a\": \"x\", \"b\": 1}]}",
        (String) Db.scalar(db, "SELECT to_jsonb(r)::text FROM t r WHERE id = 2"),
        "{\"m\": \"sad\", \"n\": \"5\", \"id\": 1}");
  }

  /** PostgreSQL 14-17 never publish generated columns; 18 does when the publication asks (docs/values.md). */
  private String withoutUnpublished(String table) {
    if (!table.equals("generated") || version.major() >= 18) {
      return "";
    }
    StringBuilder minus = new StringBuilder();
    GENERATED_COLUMNS.forEach(c -> minus.append(" - '").append(c).append("'"));
    return minus.toString();
  }

  private void assertUnchangedToastKeptInBothImages(ConnectionSettings db, List<Change> changes) {
    Change update = changes.stream().filter(c -> c.table().equals("toasted") && c.operation() == Change.Operation.UPDATE)
        .findFirst().orElseThrow();
    assertThat(update.before()).hasSizeGreaterThan(500_000);
    assertThat(normalized(db, update.after())).isEqualTo(Db.scalar(db, "SELECT to_jsonb(t)::text FROM toasted t"));
    assertThat(Db.scalar(db, "SELECT ?::jsonb - 'counter' = ?::jsonb - 'counter'", update.before(), update.after()))
        .isEqualTo(true);
  }

  /** The corpus script; each new table gets REPLICA IDENTITY FULL, as pgtrail's setup gives it. */
  private static List<String> runCorpus(ConnectionSettings db) throws IOException {
    String script;
    try (InputStream in = TypeCorpusTest.class.getResourceAsStream("/values/type-corpus.sql")) {
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    List<String> statements = new ArrayList<>();
    List<String> tables = new ArrayList<>();
    for (String statement : SqlScript.split(script)) {
      statements.add(statement);
      Matcher table = CREATE_TABLE.matcher(statement.strip());
      if (table.find()) {
        tables.add(table.group(1));
        statements.add("ALTER TABLE " + table.group(1) + " REPLICA IDENTITY FULL");
      }
    }
    Db.execute(db, statements.toArray(String[]::new));
    return tables;
  }

  private static List<Change> assemble(ConnectionSettings db) throws Exception {
    List<Change> out = new ArrayList<>();
    try (Connection source = PgConnections.open(db)) {
      ChangeAssembler assembler = new ChangeAssembler(db.database(), ColumnFilter.none(),
          PrimaryKeys.fromCatalog(source), TypeCatalog.fromCatalog(source), () -> { });
      for (PgOutputCapture.Captured c : PgOutputCapture.take(db, db.database(), "p", PgValues.CANONICAL_OUTPUT_SQL)) {
        assembler.accept(c.decode(), c.lsn(), 1L, out::add);
      }
    }
    return out;
  }

  /** Our JSON as the destination's jsonb column stores it. */
  private static Object normalized(ConnectionSettings db, String json) {
    return Db.scalar(db, "SELECT ?::jsonb::text", json);
  }
}
