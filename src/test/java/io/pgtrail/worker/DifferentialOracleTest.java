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
import io.pgtrail.testing.SqlScript;
import io.pgtrail.testing.TestPostgres;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The worker against a plain trigger-based audit table on the source (src/test/resources/values/
 * oracle-setup.sql), the source set up by pgtrail's own setup: after a mixed workload (every value family, NULLs, TOAST, partitions, a table
 * without key, long, interleaved and rolled-back transactions, savepoints, TRUNCATE), {@code changes}
 * equals the audit table row for row: count, order within each transaction, table, operation, key,
 * before, after; context is {} as no row has one.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class DifferentialOracleTest {
  private static final String BULK_INSERT = """
      INSERT INTO kinds (id, n, f, b, t, ts, tstz, d, i, j, jb, dj, pos, m, p, ps, ints, texts, r, mr, pt, net, bits,
        x, tv, cash, v, bin, u, big)
      SELECT g,
        CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN 'NaN' ELSE g * 1234567890.0987654321 END,
        CASE g % 5 WHEN 0 THEN 'Infinity'::float8 WHEN 1 THEN NULL ELSE g / 7.0 END,
        CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END,
        CASE WHEN g % 6 = 0 THEN NULL ELSE format('row %s "quoted" \\ back {brace}, ü', g) END,
        CASE WHEN g % 9 = 0 THEN 'infinity' ELSE timestamp '2024-01-02 03:04:05.123456' + g * interval '1 hour 7 seconds' END,
        CASE WHEN g % 8 = 0 THEN NULL ELSE timestamptz '2024-01-02 03:04:05+05:30' + g * interval '1 day' END,
        date '2024-01-01' + g,
        g * interval '1 minute 1.5 seconds',
        CASE WHEN g % 4 = 0 THEN NULL ELSE json_build_object('g', g, 's', 'x"y', 'a', json_build_array(1, NULL, 'z')) END,
        jsonb_build_object('nested', jsonb_build_object('n', g, 'f', g / 3.0)),
        CASE WHEN g % 5 = 0 THEN 'null'::jsonb ELSE jsonb_build_array(g, 'doc') END,
        CASE WHEN g % 3 = 0 THEN NULL ELSE g END,
        (ARRAY['ok', 'odd "label", {x}', 'ünï'])[g % 3 + 1]::mood,
        ROW(format('p,%s "q"', g), g)::pair,
        ARRAY[ROW('a', g)::pair, NULL, ROW(NULL, NULL)::pair],
        CASE WHEN g % 7 = 0 THEN '{}' ELSE ARRAY[g, NULL, -g] END,
        ARRAY[format('t%s', g), 'NULL', '', 'with, comma', NULL],
        int4range(g, g + 10),
        int4multirange(int4range(1, g + 2), int4range(g + 5, NULL)),
        point(g, -g / 2.0),
        ('10.0.' || (g % 256) || '.1/24')::inet,
        (g::bit(9))::varbit,
        format('<r n="%s">&amp;</r>', g)::xml,
        to_tsvector('simple', 'fat cat ' || g),
        (g * 1.25)::money,
        (g || ' ' || -g)::int2vector,
        decode(lpad(to_hex(g), 4, '0'), 'hex'),
        md5(g::text)::uuid,
        CASE WHEN g % 50 = 1 THEN repeat(md5(g::text), 4000) END
      FROM generate_series(1, 300) g""";

  @Parameter PgVersion version;

  @Test
  void changesEqualTheTriggerAuditRowForRow() throws Exception {
    ConnectionSettings source = TestPostgres.newDatabase(version, "oracle_src");
    ConnectionSettings destination = TestPostgres.newDatabase(version, "oracle_dst");
    Db.execute(source, "ALTER DATABASE " + source.database() + " SET TimeZone = 'UTC'");
    SqlScript.run(source, resource("/values/oracle-setup.sql"));
    try (Connection c = PgConnections.open(source)) {
      SetupExecutor.apply(c, new SetupRequest("p", source.database(), Provider.SELF_MANAGED,
          TrackingScope.schemas("public"), true, false, "uid-oracle", null));
    }
    try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 200)) {
      runWorkload(source);
      long expected = (long) Db.scalar(source, "SELECT count(*) FROM oracle.audit");
      long afterWorkload = WorkerHarness.currentLsn(source);
      h.awaitRecorded(expected, Duration.ofSeconds(60));
      await().atMost(Duration.ofSeconds(20))
          .until(() -> WorkerHarness.confirmedFlush(source, source.database()) >= afterWorkload);

      List<String> oracle = lines(source, "SELECT concat_ws(' | ', tbl, op, pk, " + published("before") + ", "
          + published("after") + ", '{}') FROM oracle.audit ORDER BY xid, seq");
      List<String> recorded = lines(destination, "SELECT concat_ws(' | ', \"table\", operation,"
          + " CASE WHEN primary_key LIKE '[%' THEN primary_key::jsonb::text ELSE primary_key END,"
          + " before::text, after::text, context::text) FROM changes ORDER BY transaction_id, position");
      assertThat(expected).isGreaterThan(400);
      assertThat(String.join("\n", recorded)).isEqualTo(String.join("\n", oracle));
      assertThat(oracle).anyMatch(line -> line.startsWith("measurements | DELETE | [1, 1]"))
          .anyMatch(line -> line.contains("\"doubled\": 600") == version.major() >= 18)
          .anyMatch(line -> line.startsWith("logs | TRUNCATE"))
          .anyMatch(line -> line.startsWith("items | UPDATE | [10, \"ap\"]"));
    }
  }

  /** Generated columns are published by PostgreSQL 18 only (docs/values.md, exception 1). */
  private String published(String image) {
    return version.major() >= 18 ? image + "::text" : "(" + image + " - 'doubled')::text";
  }

  private static void runWorkload(ConnectionSettings source) throws Exception {
    Db.execute(source, "BEGIN", BULK_INSERT,
        "INSERT INTO kinds (id, t, texts, p, jb, ts, tstz) VALUES (1000, e'tab\\t nl\\n quote\" bs\\\\',"
            + " ARRAY['{\"a\":1}', '\"'], ROW(e'(),\\\\\"', -1), '{\"k\": [1e3, 0.10, -0]}',"
            + " '0044-03-15 10:00 BC', '1900-01-01 00:00:00+00:53:28')",
        "COMMIT",
        "UPDATE kinds SET t = coalesce(t, '') || '!' WHERE id % 3 = 0",
        "UPDATE kinds SET big = repeat('y', 70000), n = 1 WHERE id = 1",
        "DELETE FROM kinds WHERE id % 10 = 0");
    interleavedTransactions(source);
    Db.execute(source,
        "BEGIN", "INSERT INTO items VALUES ('eu', 2, 's1')", "SAVEPOINT s", "INSERT INTO items VALUES ('eu', 3, 'gone')",
        "UPDATE items SET note = 'gone' WHERE id = 2", "ROLLBACK TO SAVEPOINT s",
        "INSERT INTO items VALUES ('eu', 4, 'kept')", "SAVEPOINT t", "UPDATE items SET note = 'kept2' WHERE id = 4",
        "RELEASE SAVEPOINT t", "COMMIT",
        "BEGIN", "INSERT INTO items VALUES ('xx', 99, 'never')", "ROLLBACK",
        "UPDATE items SET id = 10, region = 'ap' WHERE id = 1 AND region = 'us'",
        "DELETE FROM items WHERE id = 4",
        "INSERT INTO measurements VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 1, 'c')",
        "UPDATE measurements SET bucket = 2 WHERE id = 1",
        "UPDATE measurements SET v = 'bb' WHERE id = 2",
        "DELETE FROM measurements WHERE id = 3",
        "INSERT INTO logs VALUES ('x', 1), ('x', 1)", "UPDATE logs SET n = 2 WHERE msg = 'x'",
        "DELETE FROM logs WHERE msg = 'b'", "TRUNCATE logs", "INSERT INTO logs VALUES ('after truncate', 3)");
  }

  /** Two sessions whose statements alternate; the later-started one commits first. */
  private static void interleavedTransactions(ConnectionSettings source) throws Exception {
    try (Connection a = Db.connect(source); Connection b = Db.connect(source);
        Statement sa = a.createStatement(); Statement sb = b.createStatement()) {
      a.setAutoCommit(false);
      b.setAutoCommit(false);
      sa.execute("INSERT INTO items VALUES ('eu', 1, 'a1')");
      sb.execute("INSERT INTO items VALUES ('us', 1, 'b1')");
      sa.execute("UPDATE items SET note = 'a2' WHERE region = 'eu'");
      sb.execute("INSERT INTO logs VALUES ('b', 1)");
      b.commit();
      sa.execute("INSERT INTO logs VALUES ('a', 2)");
      a.commit();
    }
  }

  private static List<String> lines(ConnectionSettings db, String sql) {
    return Db.column(db, sql).stream().collect(Collectors.toList());
  }

  private static String resource(String name) throws Exception {
    try (InputStream in = DifferentialOracleTest.class.getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
