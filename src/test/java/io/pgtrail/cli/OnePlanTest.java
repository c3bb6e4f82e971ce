package io.pgtrail.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.ManagedRole;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.plan.SetupScripts;
import io.pgtrail.postgres.plan.TeardownExecutor;
import io.pgtrail.postgres.plan.TeardownRequest;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.SqlScript;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * One plan: for each combination of the options {@code pgtrail sql setup} offers, the printed script run
 * with psql's rules and the operator's executor leave identical catalogs on two copies of one database
 * (publications, members and options, replica identities, triggers, functions, event triggers, comments,
 * the slot); so do a table created afterwards, and teardown.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OnePlanTest {
  private static final List<List<String>> SCOPES = List.of(
      List.of("--schemas", "app"),
      List.of("--tables", "app.keyed,app.parts"),
      List.of("--schemas", "app", "--exclude-tables", "app.keyless"),
      List.of("--all-tables"));

  @Parameter PgVersion version;

  /** Every scope form with every on/off option on the first enabled major; the widest one elsewhere (suite time). */
  Stream<List<String>> options() {
    List<List<String>> all = new ArrayList<>();
    for (List<String> scope : SCOPES) {
      for (int flags = 0; flags < 4; flags++) {
        List<String> args = new ArrayList<>(scope);
        if ((flags & 1) != 0) {
          args.add("--track-new-tables");
        }
        if ((flags & 2) != 0) {
          args.add("--context-triggers");
        }
        all.add(args);
      }
    }
    if (version != PgVersion.primary()) {
      return Stream.of(all.get(3));
    }
    return all.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("options")
  void scriptAndExecutorLeaveIdenticalCatalogs(List<String> options) throws Exception {
    ConnectionSettings viaScript = database("plan_script");
    ConnectionSettings viaExecutor = database("plan_exec");

    SqlScript.run(viaScript, script(viaScript, "setup", options));
    try (Connection c = PgConnections.open(viaExecutor)) {
      SetupExecutor.apply(c, request(viaExecutor, options));
    }
    assertThat(snapshot(viaExecutor)).isEqualTo(snapshot(viaScript)).isNotEmpty();

    for (ConnectionSettings db : List.of(viaScript, viaExecutor)) {
      Db.execute(db, "CREATE TABLE app.later (id int PRIMARY KEY)",
          "CREATE TABLE app.parts_2 PARTITION OF app.parts FOR VALUES FROM (100) TO (200)");
    }
    assertThat(snapshot(viaExecutor)).as("after DDL").isEqualTo(snapshot(viaScript));

    SqlScript.run(viaScript, script(viaScript, "teardown", List.of("--drop")));
    try (Connection c = PgConnections.open(viaExecutor)) {
      TeardownExecutor.apply(c, new TeardownRequest("pgtrail", viaExecutor.database(),
          SetupScripts.SCRIPT_OWNER, true));
    }
    assertThat(snapshot(viaExecutor)).as("after teardown").isEqualTo(snapshot(viaScript));
  }

  @org.junit.jupiter.api.Test
  void withARoleBothPathsGrantTheSameRights() throws Exception {
    ConnectionSettings viaScript = database("role_script");
    ConnectionSettings viaExecutor = database("role_exec");
    String role = "plan_reader_" + viaScript.database();
    List<String> options = List.of("--schemas", "app", "--role", role);

    SqlScript.run(viaScript, script(viaScript, "setup", options));
    SetupRequest plain = request(viaExecutor, List.of("--schemas", "app"));
    try (Connection c = PgConnections.open(viaExecutor)) {
      SetupExecutor.apply(c, new SetupRequest(plain.publication(), plain.slot(), plain.provider(),
          plain.scope(), plain.trackNewTables(), plain.contextTriggers(), plain.ownerId(),
          new ManagedRole(role, "pw-" + role)));
    }
    assertThat(rights(viaExecutor, role)).isEqualTo(rights(viaScript, role)).isNotEmpty();
    assertThat(snapshot(viaExecutor)).isEqualTo(snapshot(viaScript));
  }

  /** What the role may read, and the default privileges it was given. */
  private static List<String> rights(ConnectionSettings db, String role) {
    return Db.column(db, "SELECT c.oid::regclass::text || ' ' || has_table_privilege(?, c.oid, 'SELECT')"
        + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('app', 'other')"
        + " AND c.relkind IN ('r', 'p') UNION ALL SELECT 'usage ' || has_schema_privilege(?, 'app', 'USAGE')"
        + " UNION ALL SELECT 'default ' || count(*) FROM pg_default_acl d, aclexplode(d.defaclacl) a"
        + " WHERE a.grantee = (SELECT oid FROM pg_roles WHERE rolname = ?) ORDER BY 1", role, role, role);
  }

  private ConnectionSettings database(String prefix) {
    ConnectionSettings db = TestPostgres.newDatabase(version, prefix);
    Db.execute(db, "CREATE SCHEMA app", "CREATE SCHEMA other",
        "CREATE TABLE app.keyed (id int PRIMARY KEY, v text)",
        "CREATE TABLE app.keyless (v text)",
        "CREATE TABLE app.by_index (id int NOT NULL UNIQUE)",
        "ALTER TABLE app.by_index REPLICA IDENTITY USING INDEX by_index_id_key",
        "CREATE TABLE app.parts (id int, at int) PARTITION BY RANGE (at)",
        "CREATE TABLE app.parts_1 PARTITION OF app.parts FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE app.nothing (v text)", "ALTER TABLE app.nothing REPLICA IDENTITY NOTHING",
        "CREATE TABLE other.outside (id int PRIMARY KEY)");
    return db;
  }

  private static List<String> args(ConnectionSettings db, String plan, List<String> options) {
    List<String> args = new ArrayList<>(List.of("sql", plan, "--publication", "pgtrail", "--slot", db.database()));
    args.addAll(options);
    return args;
  }

  private static String script(ConnectionSettings db, String plan, List<String> options) {
    CliRun run = CliRun.of(args(db, plan, options).toArray(String[]::new));
    assertThat(run.exitCode()).as(run.err()).isZero();
    return run.out();
  }

  /** The request the same command line gives the executor (same option parsing, same owner). */
  private static SetupRequest request(ConnectionSettings db, List<String> options) {
    SqlCommand command = new SqlCommand();
    new CommandLine(command).parseArgs(args(db, "setup", options).subList(1, args(db, "setup", options).size())
        .toArray(String[]::new));
    return command.scope.request(SetupScripts.SCRIPT_OWNER);
  }

  /** Everything setup and teardown may touch, as sorted text with the database-specific slot name replaced. */
  static List<String> snapshot(ConnectionSettings db) {
    String schemas = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
    return Db.column(db, "SELECT line FROM ("
        + " SELECT 'publication ' || pubname || ' ' || concat_ws(',', puballtables, pubinsert, pubupdate, pubdelete,"
        + "   pubtruncate, pubviaroot) || ' ' || coalesce(obj_description(oid, 'pg_publication'), '') AS line"
        + "   FROM pg_publication"
        + " UNION ALL SELECT 'member ' || p.pubname || ' ' || pr.prrelid::regclass::text FROM pg_publication_rel pr"
        + "   JOIN pg_publication p ON p.oid = pr.prpubid"
        + " UNION ALL SELECT 'identity ' || c.oid::regclass::text || ' ' || c.relreplident::text FROM pg_class c"
        + "   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND " + schemas
        + " UNION ALL SELECT 'trigger ' || t.tgrelid::regclass::text || ' ' || t.tgname || ' ' || t.tgfoid::regprocedure::text"
        + "   || ' ' || coalesce(obj_description(t.oid, 'pg_trigger'), '') FROM pg_trigger t WHERE NOT t.tgisinternal"
        + " UNION ALL SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) || ' ' || p.prosecdef"
        + "   || ' ' || coalesce(p.proconfig::text, '') || ' ' || coalesce(p.proacl::text, '') FROM pg_proc p"
        + "   JOIN pg_namespace n ON n.oid = p.pronamespace WHERE " + schemas
        + " UNION ALL SELECT 'event trigger ' || evtname || ' ' || evtevent || ' ' || evtfoid::regprocedure::text"
        + "   || ' ' || evtenabled::text || ' ' || coalesce(evttags::text, '') FROM pg_event_trigger"
        + " UNION ALL SELECT 'slot ' || plugin || ' ' || slot_type FROM pg_replication_slots"
        + "   WHERE slot_name = current_database()"
        + ") s ORDER BY 1").stream().map(l -> l.replace(db.database(), "<slot>")).toList();
  }
}
