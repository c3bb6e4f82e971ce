package io.pgtrail.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.SqlScript;
import io.pgtrail.testing.TestPostgres;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The printed scripts run against a real server, twice, and leave the catalog as setup would. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class SqlCommandTest {
  @Parameter PgVersion version;
  ConnectionSettings db;
  String name;

  @BeforeEach
  void shop() {
    db = TestPostgres.newDatabase(version, "sqlcmd");
    name = db.database();
    Db.execute(db,
        "CREATE TABLE orders (id int PRIMARY KEY, total numeric)",
        "CREATE TABLE customers (id int PRIMARY KEY)",
        "CREATE TABLE \"x\"\"; DROP TABLE customers; --\" (id int PRIMARY KEY)");
  }

  private String script(String... args) {
    CliRun run = CliRun.of(args);
    assertThat(run.exitCode()).as(run.err()).isZero();
    return run.out();
  }

  private long count(String sql) {
    return ((Number) Db.scalar(db, sql)).longValue();
  }

  @Test
  void setupScriptBuildsTheCatalogAndIsSafeToRunTwice() {
    String setup = script("sql", "setup", "--publication", name, "--slot", name, "--schemas", "public",
        "--exclude-tables", "public.customers", "--track-new-tables", "--context-triggers", "--role", name + "_reader");

    SqlScript.run(db, setup);
    SqlScript.run(db, setup);

    assertThat(Db.column(db, "SELECT tablename FROM pg_publication_tables WHERE pubname = '" + name + "' ORDER BY 1"))
        .containsExactly("orders", "x\"; DROP TABLE customers; --");
    assertThat(Db.column(db, "SELECT relname FROM pg_class WHERE relreplident = 'f' AND relkind = 'r' ORDER BY 1"))
        .containsExactly("orders", "x\"; DROP TABLE customers; --");
    assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_bemi\\_row\\_trigger\\_%'")).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM pg_roles WHERE rolname = '" + name + "_reader'")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM customers")).isZero();

    Db.execute(db, "CREATE TABLE invoices (id int PRIMARY KEY)");
    assertThat(Db.column(db, "SELECT tablename FROM pg_publication_tables WHERE pubname = '" + name + "'"))
        .contains("invoices");
    assertThat(Db.scalar(db, "SELECT relreplident::text FROM pg_class WHERE relname = 'invoices'")).isEqualTo("f");
  }

  @Test
  void teardownScriptUndoesSetupAndIsSafeToRunTwice() {
    Db.execute(db, "ALTER TABLE customers REPLICA IDENTITY FULL");
    SqlScript.run(db, script("sql", "setup", "--publication", name, "--slot", name, "--track-new-tables",
        "--context-triggers"));
    String teardown = script("sql", "teardown", "--publication", name, "--slot", name, "--drop");

    SqlScript.run(db, teardown);
    SqlScript.run(db, teardown);

    assertThat(count("SELECT count(*) FROM pg_publication WHERE pubname = '" + name + "'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE '\\_pgtrail%'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_bemi%'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_proc WHERE proname LIKE '\\_pgtrail%' OR proname LIKE '\\_bemi%'")).isZero();
    assertThat(Db.scalar(db, "SELECT relreplident::text FROM pg_class WHERE relname = 'orders'")).isEqualTo("d");
    assertThat(Db.scalar(db, "SELECT relreplident::text FROM pg_class WHERE relname = 'customers'"))
        .as("FULL before pgtrail").isEqualTo("f");
  }

  @Test
  void invalidNamesAreRejectedBeforeAnyScriptIsPrinted() {
    CliRun run = CliRun.of("sql", "setup", "--publication", "pub; DROP", "--slot", "ok");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).contains("publication name 'pub; DROP' is invalid");
  }
}
