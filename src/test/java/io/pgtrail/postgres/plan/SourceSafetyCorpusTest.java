package io.pgtrail.postgres.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.SqlScript;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.PgOutputCapture;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import io.pgtrail.worker.pgoutput.TupleData;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The user-DDL corpus: with tracking on (set up by the operator's executor or by the printed script), a
 * superuser, the tables' owner and a role that may only create tables each run every statement below. Each
 * must succeed without waiting (the session runs with a 1 s lock_timeout; one case runs while another
 * session holds an ACCESS EXCLUSIVE lock on a tracked table), and afterwards tracking must be what
 * docs/source-safety.md says: which tables are published, under which name, with which identity. Then
 * INSERT, UPDATE, DELETE and TRUNCATE run on every table, and the slot shows partitions under their root.
 * The database is hardened: EXECUTE on pg_logical_emit_message is revoked from PUBLIC.
 * Add a case: one line in {@link #CORPUS}.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
@org.junit.jupiter.api.TestInstance(org.junit.jupiter.api.TestInstance.Lifecycle.PER_CLASS)
class SourceSafetyCorpusTest {
  private static final AtomicInteger RUNS = new AtomicInteger();
  static final String ODD = "Odd \"Schéma\" ü";
  private static final String Q_ODD = Identifiers.quote(ODD);

  enum Path { EXECUTOR, SCRIPT }

  enum Actor { SUPERUSER, OWNER, CREATE_ONLY }

  /** One user statement (or transaction), and what tracking looks like afterwards. */
  record Case(String name, String sql, Map<String, String> expect, boolean holdLock, boolean warns) {
    static Case of(String name, String sql, String... expect) {
      return new Case(name, sql, expectations(expect), false, false);
    }

    Case whileLocked() {
      return new Case(name, sql, expect, true, warns);
    }

    Case warning() {
      return new Case(name, sql, expect, holdLock, true);
    }
  }

  /** {@code "table", "state"} pairs; states: tracked|partition|untracked, then the identity letter. */
  private static Map<String, String> expectations(String... pairs) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      m.put(pairs[i], pairs[i + 1]);
    }
    return m;
  }

  static final List<Case> CORPUS = List.of(
      Case.of("plain", "CREATE TABLE app.c_plain (id int PRIMARY KEY, v text)", "app.c_plain", "tracked f"),
      Case.of("LIKE", "CREATE TABLE app.c_like (LIKE app.c_plain INCLUDING ALL)", "app.c_like", "tracked f"),
      Case.of("AS", "CREATE TABLE app.c_as AS SELECT 1 AS id, 'x'::text AS v", "app.c_as", "tracked f"),
      Case.of("SELECT INTO", "SELECT 1 AS id INTO app.c_into", "app.c_into", "tracked f"),
      Case.of("UNLOGGED", "CREATE UNLOGGED TABLE app.c_unlogged (id int)", "app.c_unlogged", "untracked d"),
      Case.of("TEMP", "CREATE TEMP TABLE c_temp (id int)"),
      Case.of("no key", "CREATE TABLE app.c_keyless (v text)", "app.c_keyless", "tracked f"),
      Case.of("partitioned with key", "CREATE TABLE app.p_key (id int, at int, PRIMARY KEY (id, at))"
          + " PARTITION BY RANGE (at); CREATE TABLE app.p_key_1 PARTITION OF app.p_key FOR VALUES FROM (0) TO (100)",
          "app.p_key", "tracked f", "app.p_key_1", "partition f"),
      Case.of("partitioned without key", "CREATE TABLE app.p_nokey (id int, at int) PARTITION BY RANGE (at);"
          + " CREATE TABLE app.p_nokey_1 PARTITION OF app.p_nokey FOR VALUES FROM (0) TO (100)",
          "app.p_nokey", "tracked f", "app.p_nokey_1", "partition f"),
      Case.of("ATTACH PARTITION", "CREATE TABLE app.p_nokey_2 (id int, at int);"
          + " ALTER TABLE app.p_nokey ATTACH PARTITION app.p_nokey_2 FOR VALUES FROM (100) TO (200)",
          "app.p_nokey_2", "partition f", "app.p_nokey", "tracked f"),
      Case.of("DETACH PARTITION", "CREATE TABLE app.p_nokey_3 PARTITION OF app.p_nokey FOR VALUES FROM (200) TO (300);"
          + " ALTER TABLE app.p_nokey DETACH PARTITION app.p_nokey_3", "app.p_nokey_3", "tracked f"),
      Case.of("untracked schema", "CREATE TABLE other.c_other (id int PRIMARY KEY)", "other.c_other", "untracked d"),
      Case.of("odd schema", "CREATE TABLE " + Q_ODD + ".\"Tä ble\" (id int PRIMARY KEY)", ODD + ".Tä ble", "tracked f"),
      Case.of("many in one transaction", "BEGIN; " + String.join("; ", Stream.iterate(1, i -> i + 1).limit(20)
          .map(i -> "CREATE TABLE app.m" + i + " (id int PRIMARY KEY)").toList()) + "; COMMIT",
          "app.m1", "tracked f", "app.m20", "tracked f"),
      Case.of("while a tracked table is locked", "CREATE TABLE app.c_locked (id int PRIMARY KEY)",
          "app.c_locked", "tracked f", "app.keyed", "tracked f").whileLocked(),
      Case.of("add, rename, retype, drop a column", "ALTER TABLE app.c_plain ADD COLUMN w int;"
          + " ALTER TABLE app.c_plain RENAME COLUMN w TO w2; ALTER TABLE app.c_plain ALTER COLUMN w2 TYPE bigint;"
          + " ALTER TABLE app.c_plain DROP COLUMN w2", "app.c_plain", "tracked f"),
      Case.of("RENAME", "ALTER TABLE app.c_like RENAME TO c_like_renamed", "app.c_like_renamed", "tracked f"),
      Case.of("SET SCHEMA out of the scope", "ALTER TABLE app.c_as SET SCHEMA other", "other.c_as", "untracked f"),
      Case.of("REPLICA IDENTITY USING INDEX", "CREATE TABLE app.c_index (id int NOT NULL UNIQUE, v text);"
          + " ALTER TABLE app.c_index REPLICA IDENTITY USING INDEX c_index_id_key", "app.c_index", "tracked i"),
      Case.of("REPLICA IDENTITY NOTHING", "CREATE TABLE app.c_nothing (v text);"
          + " ALTER TABLE app.c_nothing REPLICA IDENTITY NOTHING", "app.c_nothing", "untracked n").warning(),
      Case.of("DROP TABLE", "CREATE TABLE app.c_drop (id int); DROP TABLE app.c_drop"),
      // the trigger declares the new key in the stream (a logical message) inside the user's transaction
      Case.of("primary key replaced", "CREATE TABLE app.c_rekey (a int PRIMARY KEY, b int NOT NULL);"
          + " ALTER TABLE app.c_rekey DROP CONSTRAINT c_rekey_pkey, ADD PRIMARY KEY (b)", "app.c_rekey", "tracked f"),
      Case.of("odd names in a composite key", "CREATE TABLE " + Q_ODD + ".\"K \"\"ey\" (\"ä b\" int, \"c'd\" text,"
          + " PRIMARY KEY (\"ä b\", \"c'd\"))", ODD + ".K \"ey", "tracked f"),
      Case.of("CREATE EXTENSION with a table", "CREATE EXTENSION pgtrail_corpus", "app.corpus_settings", "untracked d"),
      // the context trigger emits a logical message although EXECUTE on it is revoked from PUBLIC (fixture)
      Case.of("a write with a Bemi context", "INSERT INTO app.keyed VALUES (900, 'x') /*Bemi {\"user_id\": 1} Bemi*/;"
          + " UPDATE app.keyed SET v = 'y' WHERE id = 900 /*Bemi {\"user_id\": 2} Bemi*/", "app.keyed", "tracked f"));

  /** Tables that exist before setup (owned by the owner role), and what setup makes of them. */
  private static final Map<String, String> FIXTURE = expectations(
      "app.keyed", "tracked f", "app.keyless", "tracked f", "app.by_index", "tracked i",
      "app.events", "tracked f", "app.events_1", "partition f", "app.logs", "tracked f", "app.logs_a", "partition f",
      "app.fixed_nothing", "untracked n", "other.outside", "untracked d");

  @Parameter PgVersion version;

  /** Every path with every actor on the first enabled major; two crossing pairs on the others (suite time). */
  Stream<Arguments> runs() {
    if (version != PgVersion.primary()) {
      return Stream.of(Arguments.of(Path.EXECUTOR, Actor.CREATE_ONLY), Arguments.of(Path.SCRIPT, Actor.OWNER));
    }
    return Stream.of(Path.values()).flatMap(p -> Stream.of(Actor.values()).map(a -> Arguments.of(p, a)));
  }

  @ParameterizedTest(name = "{0} setup, DDL by {1}")
  @MethodSource("runs")
  void everyStatementSucceedsWithoutWaitingAndTrackingIsWhatTheDocsSay(Path path, Actor actor) throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "corpus");
    String suffix = version.major() + "_" + RUNS.incrementAndGet() + "_" + ProcessHandle.current().pid();
    String owner = "owner_" + suffix;
    String creator = "creator_" + suffix;
    fixture(db, owner, creator);
    installCorpusExtension(db);
    SetupRequest request = new SetupRequest(db.database(), db.database(), Provider.SELF_MANAGED,
        new TrackingScope(List.of("app", ODD), List.of(), List.of(), false), true, true, SetupScripts.SCRIPT_OWNER, null);
    List<String> setupWarnings = setup(db, path, request);

    assertThat(setupWarnings).as("the table with REPLICA IDENTITY NOTHING is reported, not published")
        .anyMatch(w -> w.contains("app.fixed_nothing") && w.contains("left out"));
    assertThat(states(db, FIXTURE.keySet())).isEqualTo(new TreeMap<>(FIXTURE));

    ConnectionSettings as = switch (actor) {
      case SUPERUSER -> db;
      case OWNER -> db.withUser(owner, "pw-" + owner);
      case CREATE_ONLY -> db.withUser(creator, "pw-" + creator);
    };
    for (Case c : CORPUS) {
      List<String> warnings = runAs(as, db, c);
      assertThat(warnings).as(c.name() + ": pgtrail warnings").matches(w -> c.warns() != w.isEmpty());
      assertThat(states(db, c.expect().keySet())).as(c.name()).isEqualTo(new TreeMap<>(c.expect()));
    }

    writeEveryTable(db);
    List<String> changes = decodedChanges(db);
    assertThat(changes).as("partitions are recorded under their root")
        .contains("app.p_nokey INSERT", "app.p_key INSERT", "app.events INSERT", "app.logs INSERT")
        .noneMatch(s -> s.matches("app\\.(p_key_1|p_nokey_1|p_nokey_2|events_1|logs_a) .*"));
    assertThat(changes).as("a row moving between partitions: a DELETE with the full old row, then an INSERT")
        .containsSubsequence("app.p_nokey UPDATE O", "app.p_nokey DELETE O id,at", "app.p_nokey INSERT");
    assertThat(changes).as("untracked tables stay out").noneMatch(s -> s.startsWith("other.")
        || s.startsWith("app.c_unlogged") || s.startsWith("app.c_nothing") || s.startsWith("app.corpus_settings"));
  }

  private void fixture(ConnectionSettings db, String owner, String creator) {
    Db.execute(db,
        "CREATE ROLE " + owner + " LOGIN PASSWORD 'pw-" + owner + "'",
        "CREATE ROLE " + creator + " LOGIN PASSWORD 'pw-" + creator + "'",
        "CREATE SCHEMA app AUTHORIZATION " + owner, "CREATE SCHEMA other", "CREATE SCHEMA " + Q_ODD,
        "GRANT USAGE, CREATE ON SCHEMA app, other, " + Q_ODD + " TO " + creator + ", " + owner,
        "GRANT CREATE ON DATABASE " + Identifiers.quote(db.database()) + " TO " + creator + ", " + owner,
        "GRANT SELECT ON ALL TABLES IN SCHEMA app TO " + creator,
        // a hardened database: nothing pgtrail installs may rely on PUBLIC's right to emit logical messages
        "DO $$ DECLARE f regprocedure; BEGIN FOR f IN SELECT oid FROM pg_proc WHERE proname = 'pg_logical_emit_message'"
            + " LOOP EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f); END LOOP; END $$",
        "CREATE TABLE app.keyed (id int PRIMARY KEY, v text)",
        "CREATE TABLE app.keyless (v text)",
        "CREATE TABLE app.by_index (id int NOT NULL, v text, CONSTRAINT by_index_id UNIQUE (id))",
        "ALTER TABLE app.by_index REPLICA IDENTITY USING INDEX by_index_id",
        "CREATE TABLE app.events (id int, at int, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)",
        "CREATE TABLE app.events_1 PARTITION OF app.events FOR VALUES FROM (0) TO (1000)",
        "CREATE TABLE app.logs (kind text, v text) PARTITION BY LIST (kind)",
        "CREATE TABLE app.logs_a PARTITION OF app.logs FOR VALUES IN ('x')",
        "CREATE TABLE app.fixed_nothing (v text)",
        "ALTER TABLE app.fixed_nothing REPLICA IDENTITY NOTHING",
        "CREATE TABLE other.outside (id int PRIMARY KEY)");
    for (String t : List.of("keyed", "keyless", "by_index", "events", "events_1", "logs", "logs_a", "fixed_nothing")) {
      Db.execute(db, "ALTER TABLE app." + t + " OWNER TO " + owner);
    }
    Db.execute(db, "GRANT SELECT, INSERT, UPDATE ON app.keyed TO " + creator);
  }

  /** A trusted extension whose script creates a table, written beside the server's own extensions. */
  private static void installCorpusExtension(ConnectionSettings db) throws Exception {
    java.nio.file.Path dir = java.nio.file.Path.of((String) Db.scalar(db, "SELECT setting FROM pg_config WHERE name = 'SHAREDIR'"), "extension");
    Files.writeString(dir.resolve("pgtrail_corpus.control"),
        "default_version = '1.0'\nrelocatable = false\nschema = app\ntrusted = true\n");
    Files.writeString(dir.resolve("pgtrail_corpus--1.0.sql"),
        "CREATE TABLE corpus_settings (k text PRIMARY KEY, v text);\n");
  }

  private static List<String> setup(ConnectionSettings db, Path path, SetupRequest request) throws Exception {
    if (path == Path.EXECUTOR) {
      try (Connection c = PgConnections.open(db)) {
        return SetupExecutor.apply(c, request).warnings();
      }
    }
    List<String> warnings = new ArrayList<>();
    for (String statement : SqlScript.split(SetupScripts.setup(request, null))) {
      warnings.addAll(pgtrailWarnings(db, statement));
    }
    return warnings;
  }

  /** Runs a case as the actor with a 1 s lock_timeout; a wait would fail it. Returns pgtrail's warnings. */
  private static List<String> runAs(ConnectionSettings as, ConnectionSettings db, Case c) throws Exception {
    Connection holder = null;
    try {
      if (c.holdLock()) {
        holder = PgConnections.open(db);
        holder.setAutoCommit(false);
        try (Statement s = holder.createStatement()) {
          s.execute("LOCK TABLE app.keyed IN ACCESS EXCLUSIVE MODE");
        }
      }
      return pgtrailWarnings(as, "SET lock_timeout = '1s'; " + c.sql());
    } finally {
      if (holder != null) {
        holder.rollback();
        holder.close();
      }
    }
  }

  private static List<String> pgtrailWarnings(ConnectionSettings db, String sql) throws Exception {
    List<String> warnings = new ArrayList<>();
    try (Connection c = PgConnections.open(db); Statement s = c.createStatement()) {
      s.execute(sql);
      for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
        if (w.getMessage() != null && w.getMessage().startsWith("pgtrail: ") && !w.getMessage().startsWith(SetupPlan.DID)) {
          warnings.add(w.getMessage());
        }
      }
    }
    return warnings;
  }

  /** "tracked|partition|untracked" and the identity letter, for each named table (absent tables are left out). */
  private static Map<String, String> states(ConnectionSettings db, java.util.Collection<String> tables) {
    Map<String, String> actual = new TreeMap<>();
    for (List<Object> row : Db.rows(db, "SELECT n.nspname || '.' || c.relname,"
        + " CASE WHEN pr.prrelid IS NOT NULL THEN 'tracked' WHEN c.relispartition THEN 'partition' ELSE 'untracked' END"
        + " || ' ' || c.relreplident::text"
        + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        + " LEFT JOIN pg_publication_rel pr ON pr.prrelid = c.oid"
        + "   AND pr.prpubid = (SELECT oid FROM pg_publication WHERE pubname = current_database())"
        + " WHERE c.relkind IN ('r', 'p')")) {
      if (tables.contains((String) row.get(0))) {
        actual.put((String) row.get(0), (String) row.get(1));
      }
    }
    return actual;
  }

  /** INSERT, UPDATE (a row moving between partitions included), DELETE and TRUNCATE on every user table. */
  private static void writeEveryTable(ConnectionSettings db) {
    List<List<Object>> tables = Db.rows(db, "SELECT format('%I.%I', n.nspname, c.relname),"
        + " string_agg(CASE WHEN a.atttypid IN ('int4'::regtype, 'int8'::regtype) THEN '5' ELSE '''x''' END, ', '"
        + "   ORDER BY a.attnum), (array_agg(quote_ident(a.attname) ORDER BY a.attnum))[1]"
        + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        + " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
        + " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname IN ('app', 'other', " + Identifiers.literal(ODD)
        + ") GROUP BY 1 ORDER BY 1");
    for (List<Object> t : tables) {
      String table = (String) t.get(0);
      Db.execute(db, "INSERT INTO " + table + " VALUES (" + t.get(1) + ")",
          "UPDATE " + table + " SET " + t.get(2) + " = " + t.get(2));
    }
    Db.execute(db, "UPDATE app.p_nokey SET at = 150");
    for (List<Object> t : tables) {
      Db.execute(db, "DELETE FROM " + t.get(0), "INSERT INTO " + t.get(0) + " VALUES (" + t.get(1) + ")",
          "TRUNCATE " + t.get(0));
    }
  }

  /** What the slot would stream: "schema.table OP" with the old-row kind and old columns for UPDATE/DELETE. */
  private static List<String> decodedChanges(ConnectionSettings db) throws Exception {
    Map<Integer, PgOutputMessage.Relation> relations = new HashMap<>();
    List<String> out = new ArrayList<>();
    for (PgOutputCapture.Captured captured : PgOutputCapture.take(db, db.database(), db.database())) {
      PgOutputMessage m = captured.decode();
      if (m instanceof PgOutputMessage.Relation r) {
        relations.put(r.oid(), r);
      } else if (m instanceof PgOutputMessage.Insert i) {
        out.add(name(relations.get(i.relationOid())) + " INSERT");
      } else if (m instanceof PgOutputMessage.Update u) {
        out.add(name(relations.get(u.relationOid())) + " UPDATE " + (u.oldTuple() == null ? "-" : u.oldKind()));
      } else if (m instanceof PgOutputMessage.Delete d) {
        PgOutputMessage.Relation r = relations.get(d.relationOid());
        List<String> present = new ArrayList<>();
        for (int i = 0; i < r.columns().size(); i++) {
          if (d.oldTuple().kind(i) != TupleData.NULL) {
            present.add(r.columns().get(i).name());
          }
        }
        out.add(name(r) + " DELETE " + d.oldKind() + " " + String.join(",", present));
      }
    }
    return out;
  }

  private static String name(PgOutputMessage.Relation r) {
    return r.namespace() + "." + r.name();
  }
}
