package io.pgtrail.worker.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.Main;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.WorkerHarness;
import io.pgtrail.worker.sink.ChangeSink;
import io.pgtrail.worker.sink.ChangesTable;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** {@code pgtrail store convert} on a table made by Bemi's own migration, while a worker's sink keeps writing. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class StoreConversionTest {
  @Parameter PgVersion version;

  /** Bemi's migration (bemi-prisma): another column order, varchar primary_key, its own index names. */
  static final String[] BEMI_TABLE = {
      "CREATE TABLE changes (id uuid NOT NULL DEFAULT gen_random_uuid(), primary_key varchar(255),"
          + " \"before\" jsonb NOT NULL DEFAULT '{}', \"after\" jsonb NOT NULL DEFAULT '{}',"
          + " context jsonb NOT NULL DEFAULT '{}', \"database\" varchar(255) NOT NULL, \"schema\" varchar(255) NOT NULL,"
          + " \"table\" varchar(255) NOT NULL, operation text NOT NULL, committed_at timestamptz(6) NOT NULL,"
          + " queued_at timestamptz(6) NOT NULL, created_at timestamptz(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,"
          + " transaction_id bigint NOT NULL, \"position\" bigint NOT NULL, CONSTRAINT changes_pkey PRIMARY KEY (id))",
      "CREATE INDEX changes_committed_at_idx ON changes (committed_at)",
      "CREATE INDEX changes_table_idx ON changes (\"table\")",
      "CREATE INDEX changes_after_idx ON changes USING gin (\"after\" jsonb_path_ops)",
      "CREATE UNIQUE INDEX changes_position_table_schema_database_operation_key ON changes"
          + " (\"position\", \"table\", \"schema\", \"database\", operation)"};

  @Test
  void convertsABemiTableRowForRowWhileTheSinkWritesAndAbsorbsReplaysAfterwards() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "convert");
    try (Connection c = PgConnections.open(db)) {
      for (String sql : BEMI_TABLE) {
        c.createStatement().execute(sql);
      }
      // 3,000 changes over the last 60 days (nine or ten weeks), one with a very long key
      c.createStatement().execute("INSERT INTO changes (primary_key, \"after\", \"database\", \"schema\", \"table\","
          + " operation, committed_at, queued_at, transaction_id, \"position\")"
          + " SELECT CASE WHEN g = 7 THEN repeat('k', 255) ELSE g::text END, jsonb_build_object('n', g), 'src',"
          + " 'public', 'orders', 'CREATE', now() - (g * interval '29 minutes'), now(), g, g"
          + " FROM generate_series(1, 3000) g");
    }
    Instant now = Instant.now();
    try (ChangeSink sink = ChangesStoreTest.sink(db)) {
      sink.add(ChangesStoreTest.change(5001, now)); // written into the old table
      sink.flush(0, 0);

      StringWriter out = new StringWriter();
      CommandLine cli = Main.commandLine();
      cli.setOut(new PrintWriter(out));
      cli.setErr(new PrintWriter(out));
      int exit = cli.execute("store", "convert", "--url", db.redacted(), "--batch-rows", "700");
      assertThat(exit).as(out.toString()).isZero();
      assertThat(out.toString()).contains("verified: 3001 of 3001 rows of changes_unpartitioned")
          .contains("copied 3001 rows");

      // the sink's next batches go into the partitioned table; a replay of a converted change is absorbed
      sink.add(ChangesStoreTest.change(5002, now));
      assertThat(sink.flush(0, 0).inserted()).isEqualTo(1);
      sink.add(ChangesStoreTest.change(5001, now));
      assertThat(sink.flush(0, 0)).isEqualTo(new ChangeSink.FlushResult(1, 0, true, 0, 0));
    }
    try (Connection c = PgConnections.open(db)) {
      assertThat(ChangesTable.isPartitioned(c)).isTrue();
    }
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(3002);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes n JOIN changes_unpartitioned o"
        + " USING (id, committed_at, primary_key, \"after\", created_at)")).isEqualTo(3001);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'changes'::regclass"))
        .isGreaterThanOrEqualTo(10);
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes_default")).isZero();

    // run again: nothing left to copy; with --drop-old the old table goes
    StringWriter again = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(again));
    assertThat(cli.execute("store", "convert", "--url", db.redacted(), "--drop-old")).isZero();
    assertThat(again.toString()).contains("resuming").contains("dropped changes_unpartitioned");
    assertThat(WorkerHarness.count(db, "SELECT count(*) FROM changes")).isEqualTo(3002);
  }
}
