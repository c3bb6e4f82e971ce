package io.pgtrail.postgres.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.PgOutputCapture;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bemi's own migration (bemi-prisma's {@code migration:create}, same statements) run before or after
 * pgtrail's setup: pgtrail uses Bemi's context function instead of adding a second one, and teardown keeps
 * what Bemi relies on and says so. Afterwards a {@code /*Bemi ... Bemi*}{@code /} comment still becomes a
 * logical message, and a new table still gets Bemi's trigger.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class BemiCoexistenceTest {
  /** The statements of Bemi's migration for Prisma: context function, trigger procedure, event trigger. */
  static final String BEMI_MIGRATION = """
      CREATE OR REPLACE FUNCTION _bemi_row_trigger_func() RETURNS TRIGGER AS $$
      DECLARE
        _bemi_metadata TEXT;
      BEGIN
        SELECT split_part(split_part(current_query(), '/*Bemi ', 2), ' Bemi*/', 1) INTO _bemi_metadata;
        IF _bemi_metadata <> '' THEN
          PERFORM pg_logical_emit_message(true, '_bemi', _bemi_metadata);
        END IF;
        IF (TG_OP = 'DELETE') THEN
          RETURN OLD;
        ELSE
          RETURN NEW;
        END IF;
      END;
      $$ LANGUAGE plpgsql;
      CREATE OR REPLACE PROCEDURE _bemi_create_triggers() AS $$
      DECLARE
        current_tablename TEXT;
      BEGIN
        FOR current_tablename IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
          EXECUTE format('CREATE OR REPLACE TRIGGER _bemi_row_trigger_%s BEFORE INSERT OR UPDATE OR DELETE ON %I'
            || ' FOR EACH ROW EXECUTE FUNCTION _bemi_row_trigger_func()', current_tablename, current_tablename);
        END LOOP;
      END;
      $$ LANGUAGE plpgsql;
      CREATE OR REPLACE FUNCTION _bemi_create_table_trigger_func() RETURNS event_trigger AS $$
      BEGIN
        CALL _bemi_create_triggers();
      END
      $$ LANGUAGE plpgsql;
      DROP EVENT TRIGGER IF EXISTS _bemi_create_table_trigger;
      CREATE EVENT TRIGGER _bemi_create_table_trigger ON ddl_command_end WHEN TAG IN ('CREATE TABLE')
        EXECUTE FUNCTION _bemi_create_table_trigger_func();
      CALL _bemi_create_triggers();
      """;

  @Parameter PgVersion version;
  ConnectionSettings db;

  @BeforeEach
  void shop() {
    db = TestPostgres.newDatabase(version, "coexist");
    Db.execute(db, "CREATE TABLE orders (id int PRIMARY KEY, status text)", "CREATE TABLE customers (id int PRIMARY KEY)");
  }

  private SetupResult setup() throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return SetupExecutor.apply(c, new SetupRequest(db.database(), db.database(), Provider.SELF_MANAGED,
          TrackingScope.schemas("public"), true, true, "uid-bemi", null));
    }
  }

  private TeardownResult teardown() throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return TeardownExecutor.apply(c, new TeardownRequest(db.database(), db.database(), "uid-bemi", true));
    }
  }

  @Test
  void bemiBeforePgtrail() throws Exception {
    Db.execute(db, BEMI_MIGRATION);
    SetupResult setup = setup();

    assertThat(setup.executedSteps()).noneMatch(s -> s.contains("CREATE FUNCTION") && s.contains("_bemi"))
        .noneMatch(s -> s.startsWith("CREATE TRIGGER"));
    assertThat(Db.scalar(db, "SELECT count(*) FROM pg_proc WHERE proname = '_bemi_row_trigger_func'")).isEqualTo(1L);

    TeardownResult teardown = teardown();
    assertThat(teardown.executedSteps()).noneMatch(s -> s.contains("_bemi_row_trigger"));
    assertBemisContextWorks();
  }

  @Test
  void bemiAfterPgtrail() throws Exception {
    setup();
    Db.execute(db, BEMI_MIGRATION);

    TeardownResult teardown = teardown();

    assertThat(teardown.skipped()).anyMatch(s -> s.contains("context trigger") && s.contains("Bemi"))
        .anyMatch(s -> s.contains("context function") && s.contains("Bemi"));
    assertThat(teardown.executedSteps()).noneMatch(s -> s.contains("_bemi_row_trigger"));
    assertBemisContextWorks();
  }

  private void assertBemisContextWorks() throws Exception {
    Db.execute(db, "CREATE TABLE invoices (id int PRIMARY KEY)");
    assertThat(Db.column(db, "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
        + " JOIN pg_proc p ON p.oid = t.tgfoid WHERE p.proname = '_bemi_row_trigger_func' ORDER BY 1"))
        .containsExactly("customers", "invoices", "orders");
    String probe = db.database() + "_probe";
    Db.execute(db, "CREATE PUBLICATION " + probe + " FOR TABLE orders");
    PgOutputCapture.createSlot(db, probe);
    try {
      Db.execute(db, "INSERT INTO orders VALUES (1, 'new') /*Bemi {\"user\": \"ann\"} Bemi*/");
      List<PgOutputMessage> messages = PgOutputCapture.take(db, probe, probe).stream()
          .map(PgOutputCapture.Captured::decode).toList();
      assertThat(messages).anyMatch(m -> m instanceof PgOutputMessage.Message msg && "_bemi".equals(msg.prefix())
          && new String(msg.content(), java.nio.charset.StandardCharsets.UTF_8).contains("ann"));
    } finally {
      Db.execute(db, "SELECT pg_drop_replication_slot('" + probe + "')");
    }
  }
}
