package io.pgtrail.worker.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.Change;
import io.pgtrail.worker.KeyDeclaration;
import io.pgtrail.worker.WorkerHarness;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The sink alone against a real destination. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class ChangeSinkTest {
  @Parameter PgVersion version;

  private final Map<String, Long> recorded = new HashMap<>();
  private final List<String> rejected = new ArrayList<>();

  private ChangeSink sink(ConnectionSettings db) throws Exception {
    return new ChangeSink(PgConnections.open(db), "test_slot",
        (schema, table, operation, count) -> recorded.merge(schema + "." + table + " " + operation, count, Long::sum),
        (change, sqlState, setAside) -> rejected.add(change.position() + ":" + sqlState + ":" + setAside));
  }

  private static Change change(long position, Change.Operation operation, String after) {
    return new Change("src", "public", "orders", Long.toString(position), operation, "{}", after,
        "{\"user\":\"ann\"}", 1_700_000_000_123_456L, 1_700_000_000_223_456L, 77, position);
  }

  @Test
  void aReplayDiscoveredWhileStreamingALargeBatchIsAbsorbed() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    String bulky = "{\"note\": \"" + "x".repeat(300) + "\"}";
    try (ChangeSink sink = sink(db)) {
      for (int i = 1; i <= 2000; i++) {
        sink.add(change(i, Change.Operation.CREATE, bulky));
      }
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(2000, 2000, false, 0, 0));
      for (int i = 1; i <= 2010; i++) {
        sink.add(change(i, Change.Operation.CREATE, bulky));
      }
      assertThat(sink.pendingBytes()).isGreaterThan(256 * 1024);
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(2010, 10, true, 0, 0));
    }
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(2010);
  }

  @Test
  void createsTheBemiShapedTableWithItsIndexes() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    try (ChangeSink ignored = sink(db); ChangeSink again = sink(db); Connection c = PgConnections.open(db)) {
      List<String> columns = new ArrayList<>();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT column_name || ':' || data_type"
          + " FROM information_schema.columns WHERE table_name = 'changes' ORDER BY ordinal_position")) {
        while (rs.next()) {
          columns.add(rs.getString(1));
        }
      }
      assertThat(columns).containsExactly("id:uuid", "database:character varying", "schema:character varying",
          "table:character varying", "primary_key:text", "operation:text", "before:jsonb", "after:jsonb",
          "context:jsonb", "committed_at:timestamp with time zone", "queued_at:timestamp with time zone",
          "created_at:timestamp with time zone", "transaction_id:bigint", "position:bigint");
      List<String> indexes = new ArrayList<>();
      try (ResultSet rs = c.createStatement().executeQuery(
          "SELECT indexdef FROM pg_indexes WHERE tablename = 'changes' ORDER BY indexname")) {
        while (rs.next()) {
          indexes.add(rs.getString(1));
        }
      }
      assertThat(indexes).anySatisfy(d -> assertThat(d).contains("gin (after jsonb_path_ops) WITH (gin_pending_list_limit='65536')"))
          .anySatisfy(d -> assertThat(d).contains("gin (before jsonb_path_ops) WITH (gin_pending_list_limit='65536')"))
          .anySatisfy(d -> assertThat(d).contains("gin (context jsonb_path_ops) WITH (gin_pending_list_limit='65536')"))
          .anySatisfy(d -> assertThat(d).contains("(committed_at)"))
          .anySatisfy(d -> assertThat(d).contains("(\"table\", primary_key, committed_at)"))
          .anySatisfy(d -> assertThat(d).contains("(primary_key)"))
          .anySatisfy(d -> assertThat(d).contains("(operation)"))
          .anySatisfy(d -> assertThat(d).contains("UNIQUE INDEX").contains(
              "(\"position\", \"table\", schema, database, operation, committed_at)"));
    }
  }

  @Test
  void writesBatchesAndAbsorbsReplays() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    String tricky = "{\"s\": \"tab\\tnewline\\nback\\\\slash é \\u00e9 🙂\"}";
    try (ChangeSink sink = sink(db); Connection c = PgConnections.open(db)) {
      sink.add(change(1, Change.Operation.CREATE, tricky));
      sink.add(change(2, Change.Operation.UPDATE, "{\"n\": 1.10}"));
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(2, 2, false, 0, 0));

      sink.add(change(2, Change.Operation.UPDATE, "{\"n\": 1.10}"));
      sink.add(change(3, Change.Operation.DELETE, "{}"));
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(2, 1, true, 0, 0));
      sink.add(change(4, Change.Operation.CREATE, "{}"));
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(1, 1, true, 0, 0));
      sink.add(change(5, Change.Operation.CREATE, "{}"));
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(1, 1, false, 0, 0));

      try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*), count(DISTINCT position),"
          + " max(after::text) FILTER (WHERE position = 1), min(committed_at)::text, max(context->>'user'),"
          + " max(after->>'n') FROM changes")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(5);
        assertThat(rs.getInt(2)).isEqualTo(5);
        assertThat(rs.getString(3)).isEqualTo("{\"s\": \"tab\\tnewline\\nback\\\\slash é é 🙂\"}");
        assertThat(rs.getString(4)).startsWith("2023-11-14 22:13:20.123456");
        assertThat(rs.getString(5)).isEqualTo("ann");
        assertThat(rs.getString(6)).isEqualTo("1.10");
      }
    }
    assertThat(recorded).containsEntry("public.orders CREATE", 3L).containsEntry("public.orders UPDATE", 1L)
        .containsEntry("public.orders DELETE", 1L);
  }

  @Test
  void keyDeclarationsAreWrittenWithTheirBatchOrAcknowledgementAndAReplayAddsNone() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    KeyDeclaration withRows = new KeyDeclaration(16400, "public", "orders", List.of("tenant", "id"), 1);
    KeyDeclaration alone = new KeyDeclaration(16400, "public", "orders", List.of(), 7);
    String rows = "SELECT count(*) FROM " + KeysTable.NAME;
    for (int session = 1; session <= 2; session++) { // the second session replays what the first wrote
      try (ChangeSink sink = sink(db)) {
        sink.declared(withRows);
        sink.add(change(2, Change.Operation.CREATE, "{}"));
        assertThat(sink.flush(2, 0, false).absorbedReplays()).isEqualTo(session == 2);
        sink.declared(alone);
        sink.acknowledge(8, 0);
        assertThat(sink.pendingDeclarations()).isZero();
      }
      assertThat(WorkerHarness.count(db, rows)).isEqualTo(2);
    }
    try (Connection c = PgConnections.open(db)) {
      assertThat(KeysTable.latestUpTo(c, "test_slot", 6)).containsExactly(withRows);
      assertThat(KeysTable.latestUpTo(c, "test_slot", 7)).containsExactly(alone);
      assertThat(KeysTable.latestUpTo(c, "other_slot", 7)).isEmpty();
    }
  }

  @Test
  void batchesAndAcknowledgementsWithoutDeclarationsDoNotTouchTheKeysTable() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    try (ChangeSink sink = sink(db)) {
      try (Connection c = PgConnections.open(db)) {
        c.createStatement().execute("DROP TABLE " + KeysTable.NAME); // any statement on it would now fail
      }
      sink.add(change(1, Change.Operation.CREATE, "{}"));
      assertThat(sink.flush(1, 0).inserted()).isEqualTo(1);
      sink.acknowledge(2, 0);
    }
    assertThat(WorkerHarness.count(db, "SELECT acknowledged_lsn FROM pgtrail_progress")).isEqualTo(2);
  }

  @Test
  void rawControlCharactersAndNonAsciiTextSurviveTheRoundTrip() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    String key = "line one\nline\ttwo\r\\ 日本 🙂";
    String note = ("é€🙂\\ " + "x".repeat(50)).repeat(400); // 21,000+ chars: several encoder chunks
    String after = "{\"note\": \"" + note.replace("\\", "\\\\") + "\"}";
    try (ChangeSink sink = sink(db); Connection c = PgConnections.open(db)) {
      sink.add(new Change("src", "sch\tema", "tab\nle", key, Change.Operation.CREATE, "{}", after, "{}",
          1L, 1L, 1, 10));
      sink.flush(0, 0);
      try (ResultSet rs = c.createStatement().executeQuery(
          "SELECT primary_key, \"schema\", \"table\", after->>'note' FROM changes")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo(key);
        assertThat(rs.getString(2)).isEqualTo("sch\tema");
        assertThat(rs.getString(3)).isEqualTo("tab\nle");
        assertThat(rs.getString(4)).isEqualTo(note);
      }
    }
  }

  @Test
  void aNullKeyAndTimestampsRoundTripThroughTheBinaryCopy() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    try (ChangeSink sink = sink(db); Connection c = PgConnections.open(db)) {
      sink.add(new Change("src", "public", "log", null, Change.Operation.TRUNCATE, "{}", "{}", "{}",
          -1_000_000L, 0L, Long.MAX_VALUE, Long.MIN_VALUE));
      sink.flush(0, 0);
      try (ResultSet rs = c.createStatement().executeQuery("SELECT primary_key IS NULL, operation,"
          + " to_char(committed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'),"
          + " to_char(queued_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), transaction_id, position FROM changes")) {
        rs.next();
        assertThat(rs.getBoolean(1)).isTrue();
        assertThat(rs.getString(2)).isEqualTo("TRUNCATE");
        assertThat(rs.getString(3)).isEqualTo("1969-12-31 23:59:59.000000");
        assertThat(rs.getString(4)).isEqualTo("1970-01-01 00:00:00.000000");
        assertThat(rs.getLong(5)).isEqualTo(Long.MAX_VALUE);
        assertThat(rs.getLong(6)).isEqualTo(Long.MIN_VALUE);
      }
    }
  }

  @Test
  void aChangesTableWithOtherColumnTypesIsRefusedWithTheColumnsNamed() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    try (Connection c = PgConnections.open(db)) {
      c.createStatement().execute("CREATE TABLE changes (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
          + " \"database\" varchar(255), \"schema\" varchar(255), \"table\" varchar(255), primary_key varchar(255),"
          + " operation text, \"before\" json, \"after\" jsonb, context jsonb, committed_at timestamptz,"
          + " created_at timestamptz, transaction_id integer, \"position\" bigint)");
    }
    assertThatThrownBy(() -> sink(db).close())
        .isInstanceOf(java.sql.SQLException.class)
        .hasMessageContaining("before is json (expected jsonb)")
        .hasMessageContaining("queued_at is missing")
        .hasMessageContaining("transaction_id is int4 (expected int8)")
        .hasMessageNotContaining("primary_key is");
  }

  /**
   * One batch with every kind of change the destination refuses: each is found, recorded in its fallback
   * form (or set aside when even that is refused), and every other row of the batch is written as it was.
   */
  @Test
  void refusedChangesAreIsolatedRecordedInFallbackFormOrSetAside() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    byte[] random = new byte[2600];
    new java.util.Random(7).nextBytes(random);
    // a 2,600-byte bytea key as text: 5,202 bytes that do not compress, too much for a btree index entry
    String longKey = "\\x" + java.util.HexFormat.of().formatHex(random);
    try (ChangeSink sink = sink(db); Connection c = PgConnections.open(db)) {
      c.createStatement().execute("ALTER TABLE changes ADD CONSTRAINT no_forbidden"
          + " CHECK (after->>'note' IS DISTINCT FROM 'forbidden')");
      for (int i = 1; i <= 300; i++) {
        String after = switch (i) {
          case 17 -> "{\"doc\": {\"a\": \"x\\u0000y\"}, \"n\": 1}";
          case 50 -> "{\"doc\": \"\\ud800\"}";
          case 51 -> "{\"doc\": 1e1000000, \"ok\": 2}";
          case 200 -> "{\"note\": \"forbidden\"}";
          default -> "{\"n\": " + i + "}";
        };
        Change change = change(i, Change.Operation.CREATE, after);
        if (i == 120) {
          change = new Change("src", "public", "orders", "1", Change.Operation.CREATE, "{}", "{}",
              "{\"user\": \"a\\u0000b\"}", 1L, 1L, 77, i);
        } else if (i == 250) {
          change = new Change("src", "public", "blobs", longKey, Change.Operation.CREATE, "{}", "{}", "{}", 1L, 1L,
              77, i);
        }
        sink.add(change);
      }
      ChangeSink.FlushResult result = sink.flush(4242, 0);
      assertThat(rejected).containsExactly("17:22P05:false", "50:22P02:false", "51:22003:false",
          "120:22P05:false", "200:23514:true", "250:54000:false");
      assertThat(result).isEqualTo(new ChangeSink.FlushResult(300, 299, false, 5, 1));

      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(299);
      assertThat(value(c, "SELECT after->'doc'->>'a' FROM changes WHERE position = 17")).isEqualTo("x\\u0000y");
      assertThat(value(c, "SELECT context->'pgtrail'->'fallback'->>'rewritten' FROM changes WHERE position = 17"))
          .isEqualTo("[\"after.doc\"]");
      assertThat(value(c, "SELECT after->>'n' FROM changes WHERE position = 17")).isEqualTo("1");
      assertThat(value(c, "SELECT after->>'doc' FROM changes WHERE position = 50")).isEqualTo("\\ud800");
      assertThat(value(c, "SELECT after->>'doc' || ' ' || (after->>'ok') FROM changes WHERE position = 51"))
          .isEqualTo("1e1000000 2");
      assertThat(value(c, "SELECT context->>'user' || ' ' || (context->'pgtrail'->'fallback'->>'sqlstate')"
          + " FROM changes WHERE position = 120")).isEqualTo("a\\u0000b 22P05");
      assertThat(value(c, "SELECT primary_key FROM changes WHERE position = 250")).startsWith("sha256:").hasSize(71);
      assertThat(value(c, "SELECT context->'pgtrail'->'fallback'->>'primary_key' FROM changes WHERE position = 250"))
          .isEqualTo(longKey);
      assertThat(value(c, "SELECT context->'pgtrail'->'fallback'->>'reason' FROM changes WHERE position = 250"))
          .isEqualTo("PrimaryKeyTooLong");
      assertThat(value(c, "SELECT count(*) FROM changes WHERE context ? 'pgtrail'")).isEqualTo("5");

      assertThat(value(c, "SELECT \"table\" || ' ' || operation || ' ' || position || ' ' || error_class || ' '"
          + " || sqlstate || ' ' || (convert_from(payload, 'UTF8')::jsonb->>'after') FROM pgtrail_dead_letter"))
          .isEqualTo("orders CREATE 200 RowRejected 23514 {\"note\": \"forbidden\"}");
      assertThat(value(c, "SELECT acknowledged_lsn || ' ' || fallback_changes || ' ' || set_aside_changes"
          + " FROM pgtrail_progress WHERE slot_name = 'test_slot'")).isEqualTo("4242 5 1");

      // the same batch again (a replay after a restart): nothing twice, nothing set aside twice
      rejected.clear();
      sink.add(change(199, Change.Operation.CREATE, "{\"n\": 199}"));
      sink.add(change(200, Change.Operation.CREATE, "{\"note\": \"forbidden\"}"));
      sink.add(change(301, Change.Operation.CREATE, "{\"n\": 301}"));
      assertThat(sink.flush(4343, 0).inserted()).isEqualTo(1);
      assertThat(rejected).as("a replayed refusal is not counted twice").isEmpty();
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(300);
      assertThat(WorkerHarness.count(db, "SELECT count(*) FROM pgtrail_dead_letter")).isEqualTo(1);
    }
  }

  @Test
  void aTransientFailureIsThrownAndNothingIsSetAside() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "sink");
    try (ChangeSink sink = sink(db); Connection c = PgConnections.open(db)) {
      c.createStatement().execute("CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS"
          + " $$BEGIN PERFORM pg_sleep(0.2); RETURN NEW; END$$");
      c.createStatement().execute("CREATE TRIGGER slow BEFORE INSERT ON changes FOR EACH ROW EXECUTE FUNCTION slow()");
      sink.connection().createStatement().execute("SET statement_timeout = '100ms'");
      sink.connection().commit();
      sink.add(change(1, Change.Operation.CREATE, "{}"));
      assertThatThrownBy(() -> sink.flush(1, 0))
          .isInstanceOfSatisfying(java.sql.SQLException.class,
              e -> assertThat(FailureClass.of(e)).isEqualTo(FailureClass.TIMEOUT));
      sink.discard();
    }
    assertThat(rejected).isEmpty();
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM pgtrail_dead_letter")).isZero();
  }

  private static String value(Connection c, String sql) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
