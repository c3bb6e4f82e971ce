package io.pgtrail.worker;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.pgoutput.PgOutputDecoder;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A micro-benchmark of the worker's read path without I/O: real pgoutput bytes captured once, then
 * decoded, and decoded + assembled into changes (values to JSON, keys), several rounds each, for the
 * bench's seven-column table and for a wide table of every value family. Not a test: run by hand
 * (docs/values.md says how) and compare rows/s; no number here is asserted anywhere.
 */
public final class DecodeThroughput {
  private static final int ROUNDS = 7;
  /** CPU time of the measuring thread: the machine is shared, wall time would measure the neighbours. */
  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  public static void main(String[] args) throws Exception {
    try (LocalPostgres server = TestPostgres.start(PgVersion.PG17, b -> b)) {
      ConnectionSettings db = TestPostgres.newDatabase(server, "decode");
      Db.execute(db,
          "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, note text, amount numeric(12,2),"
              + " weight numeric, placed_at timestamptz NOT NULL, attributes jsonb)",
          "CREATE TYPE pair AS (label text, n int)",
          "CREATE TABLE wide (id bigint PRIMARY KEY, n numeric, f float8, b boolean, t text, ts timestamp,"
              + " tstz timestamptz, d date, j jsonb, p pair, ps pair[], ints int[], texts text[], r int4range,"
              + " pt point, net inet, v int2vector, u uuid)",
          "ALTER TABLE orders REPLICA IDENTITY FULL", "ALTER TABLE wide REPLICA IDENTITY FULL",
          "CREATE PUBLICATION p FOR TABLE orders, wide");
      PgOutputCapture.createSlot(db, db.database());
      Db.execute(db,
          "INSERT INTO orders SELECT g, 'customer-' || (g % 997), 'note ' || md5(g::text), g % 1000 + 0.5,"
              + " g * 1.25, now(), jsonb_build_object('sku', g, 'tags', jsonb_build_array('a', 'b'))"
              + " FROM generate_series(1, 30000) g",
          "UPDATE orders SET amount = amount + 1, placed_at = now()");
      List<byte[]> orders = capture(db);
      Db.execute(db,
          "INSERT INTO wide SELECT g, g * 1.5, g / 7.0, g % 2 = 0, 'text ' || g, now(), now(), current_date,"
              + " jsonb_build_object('g', g), ROW('label, \"q\"'::text, g)::pair, ARRAY[ROW('a'::text, g)::pair, NULL],"
              + " ARRAY[g, NULL, -g], ARRAY['a b', 'c', NULL], int4range(g, g + 5), point(g, g),"
              + " '10.0.0.1/24', '1 2 3', md5(g::text)::uuid FROM generate_series(1, 20000) g");
      List<byte[]> wide = capture(db);
      try (Connection catalog = PgConnections.open(db)) {
        report("orders (7 columns, 30k INSERT + 30k UPDATE)", orders, catalog, db.database());
        report("wide (18 columns of every family, 20k INSERT)", wide, catalog, db.database());
      }
    }
  }

  private static List<byte[]> capture(ConnectionSettings db) throws Exception {
    List<byte[]> out = new ArrayList<>();
    for (PgOutputCapture.Captured c : PgOutputCapture.take(db, db.database(), "p", PgValues.CANONICAL_OUTPUT_SQL)) {
      out.add(c.bytes());
    }
    return out;
  }

  private static void report(String what, List<byte[]> messages, Connection catalog, String database) {
    double decodeOnly = 0;
    double assembled = 0;
    for (int round = 0; round < ROUNDS; round++) {
      decodeOnly = Math.max(decodeOnly, rowsPerSecond(messages, null));
      ChangeAssembler assembler = new ChangeAssembler(database, ColumnFilter.none(), PrimaryKeys.fromCatalog(catalog),
          TypeCatalog.fromCatalog(catalog), () -> { });
      assembled = Math.max(assembled, rowsPerSecond(messages, assembler));
    }
    System.out.printf(Locale.ROOT, "%s: decode %.0f rows/s, decode + assemble %.0f rows per CPU second (best of %d)%n",
        what, decodeOnly, assembled, ROUNDS);
  }

  private static double rowsPerSecond(List<byte[]> messages, ChangeAssembler assembler) {
    long rows = 0;
    long[] sink = new long[1];
    long started = THREADS.getCurrentThreadCpuTime();
    for (byte[] bytes : messages) {
      PgOutputMessage m = PgOutputDecoder.decode(ByteBuffer.wrap(bytes));
      if (m instanceof PgOutputMessage.Insert || m instanceof PgOutputMessage.Update) {
        rows++;
      }
      if (assembler != null) {
        assembler.accept(m, 0, 0, change -> sink[0] += change.after().length());
      }
    }
    return rows / ((THREADS.getCurrentThreadCpuTime() - started) / 1e9);
  }
}
