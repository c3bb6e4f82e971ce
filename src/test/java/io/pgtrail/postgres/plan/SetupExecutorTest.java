package io.pgtrail.postgres.plan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.preflight.CheckId;
import io.pgtrail.postgres.preflight.CheckStatus;
import io.pgtrail.postgres.preflight.Preflight;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class SetupExecutorTest {
  private static final AtomicInteger ROLES = new AtomicInteger();
  private static final QualifiedName ORDERS = new QualifiedName("public", "orders");
  private static final QualifiedName CUSTOMERS = new QualifiedName("public", "customers");

  @Parameter PgVersion version;
  ConnectionSettings db;
  /** Slot and publication name: slots are per server, so each test takes its database's name. */
  String name;

  @BeforeEach
  void shopDatabase() {
    db = TestPostgres.newDatabase(version, "setup");
    name = db.database();
    Db.execute(db,
        "CREATE TABLE customers (id bigserial PRIMARY KEY, name text)",
        "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint, total numeric, updated_at timestamptz)");
  }

  private SetupRequest request(TrackingScope scope, boolean trackNewTables, boolean contextTriggers) {
    return new SetupRequest(name, name, Provider.SELF_MANAGED, scope, trackNewTables,
        contextTriggers, "uid-1", null);
  }

  private SetupResult setup(ConnectionSettings as, SetupRequest request) throws Exception {
    try (Connection c = PgConnections.open(as)) {
      return SetupExecutor.apply(c, request);
    }
  }

  private TeardownResult teardown(TeardownRequest request) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return TeardownExecutor.apply(c, request);
    }
  }

  private List<String> published() {
    return Db.column(db, "SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = '" + name + "'"
        + " ORDER BY 1");
  }

  private String replicaIdentity(String table) {
    return (String) Db.scalar(db, "SELECT relreplident::text FROM pg_class WHERE oid = ?::regclass", table);
  }

  private long count(String sql, Object... params) {
    return ((Number) Db.scalar(db, sql, params)).longValue();
  }

  @Test
  void createsEverythingOnceAndTheSecondRunExecutesNoDdl() throws Exception {
    SetupResult first = setup(db, request(TrackingScope.schemas("public"), true, true));

    assertThat(first.trackedTables()).containsExactly(CUSTOMERS, ORDERS);
    assertThat(published()).containsExactly("public.customers", "public.orders");
    assertThat(replicaIdentity("orders")).isEqualTo("f");
    assertThat(replicaIdentity("customers")).isEqualTo("f");
    assertThat(Db.scalar(db, "SELECT plugin FROM pg_replication_slots WHERE slot_name = '" + name + "'"))
        .isEqualTo("pgoutput");
    assertThat(count("SELECT count(*) FROM pg_event_trigger WHERE evtname = '_pgtrail_ri_" + name + "_trigger'"))
        .isEqualTo(1);
    assertThat(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_bemi\\_row\\_trigger\\_%'")).isEqualTo(2);
    OwnerMarker marker = ownerMarker();
    assertThat(marker.ownerId()).isEqualTo("uid-1");
    assertThat(marker.replicaIdentityFull()).containsExactly(CUSTOMERS, ORDERS);
    assertThat(count("SELECT count(*) FROM pg_trigger WHERE obj_description(oid, 'pg_trigger') LIKE '%pgtrail%'"))
        .isEqualTo(2);

    // Count every DDL command from here on: the second run must execute none.
    Db.execute(db, "CREATE SCHEMA probe", "CREATE TABLE probe.ddl_log (tag text)",
        "CREATE FUNCTION probe.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS"
            + " $$ BEGIN INSERT INTO probe.ddl_log VALUES (tg_tag); END $$",
        "CREATE EVENT TRIGGER probe_ddl ON ddl_command_start EXECUTE FUNCTION probe.log_ddl()");
    SetupResult second = setup(db, request(TrackingScope.schemas("public"), true, true));

    assertThat(second.executedSteps()).isEmpty();
    assertThat(Db.column(db, "SELECT tag FROM probe.ddl_log")).isEmpty();
  }

  @Test
  void tablesCreatedLaterAreTrackedByTheEventTrigger() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), true, true));

    Db.execute(db, "CREATE TABLE invoices (id int PRIMARY KEY, amount numeric)");

    assertThat(replicaIdentity("invoices")).isEqualTo("f");
    assertThat(published()).contains("public.invoices");
    assertThat(count("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'invoices'::regclass AND NOT tgisinternal"))
        .isEqualTo(1);
  }

  @Test
  void contextTriggerTurnsBemiCommentsIntoLogicalMessages() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), false, true));

    Db.execute(db, "INSERT INTO orders (total) VALUES (10) /*Bemi {\"user_id\": 42} Bemi*/");

    List<String> changes = Db.column(db, "SELECT encode(data, 'escape') FROM pg_logical_slot_peek_binary_changes("
        + "'" + name + "', NULL, NULL, 'proto_version', '1', 'publication_names', '" + name + "', 'messages', 'true')");
    assertThat(String.join("\n", changes)).contains("_bemi").contains("{\"user_id\": 42}");
  }

  /** An application role that may write orders and nothing else; roles are per server, so each is new. */
  private ConnectionSettings applicationRole() {
    String role = "app_" + version.major() + "_" + ROLES.incrementAndGet();
    String password = "app-" + java.util.UUID.randomUUID();
    Db.execute(db, "CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'",
        "GRANT USAGE ON SCHEMA public TO " + role, "GRANT SELECT, INSERT, UPDATE ON orders TO " + role,
        "GRANT USAGE ON SEQUENCE orders_id_seq TO " + role);
    return db.withUser(role, password);
  }

  private String decodedMessages() {
    return String.join("\n", Db.column(db, "SELECT encode(data, 'escape') FROM pg_logical_slot_peek_binary_changes("
        + "'" + name + "', NULL, NULL, 'proto_version', '1', 'publication_names', '" + name + "', 'messages', 'true')"));
  }

  /** A hardened database: EXECUTE on pg_logical_emit_message revoked from PUBLIC. */
  private void revokeEmittingMessagesFromPublic() {
    Db.execute(db, "DO $$ DECLARE f regprocedure; BEGIN"
        + " FOR f IN SELECT oid FROM pg_proc WHERE proname = 'pg_logical_emit_message' LOOP"
        + " EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f); END LOOP; END $$");
  }

  @Test
  void aCommentedWriteSucceedsWhereEmittingMessagesIsRevokedFromPublic() throws Exception {
    revokeEmittingMessagesFromPublic();
    setup(db, request(TrackingScope.schemas("public"), false, true));
    ConnectionSettings app = applicationRole();

    assertThatThrownBy(() -> Db.execute(app, "SELECT pg_logical_emit_message(true, 'x', 'y')"))
        .as("the revocation holds for the application role").hasMessageContaining("permission denied");
    Db.execute(app, "INSERT INTO orders (total) VALUES (10) /*Bemi {\"user_id\": 7} Bemi*/",
        "UPDATE orders SET total = 11 /*Bemi {\"user_id\": 8} Bemi*/");

    assertThat(decodedMessages()).contains("{\"user_id\": 7}").contains("{\"user_id\": 8}");
  }

  @Test
  void aContextFunctionOfAnEarlierVersionIsMadeToRunAsItsOwner() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), false, true));
    Db.execute(db, "ALTER FUNCTION public._bemi_row_trigger_func() SECURITY INVOKER");

    SetupResult again = setup(db, request(TrackingScope.schemas("public"), false, true));

    assertThat(again.executedSteps()).anyMatch(step -> step.contains("SECURITY DEFINER"));
    assertThat(Db.scalar(db, "SELECT prosecdef FROM pg_proc WHERE proname = '_bemi_row_trigger_func'")).isEqualTo(true);
    assertThat(setup(db, request(TrackingScope.schemas("public"), false, true)).executedSteps()).isEmpty();
  }

  @Test
  void someoneElsesContextFunctionIsLeftAloneWithAWarningWhereEmittingMessagesIsRevoked() throws Exception {
    Db.execute(db, "CREATE FUNCTION public._bemi_row_trigger_func() RETURNS trigger LANGUAGE plpgsql AS"
        + " $$ BEGIN RETURN NEW; END $$");
    revokeEmittingMessagesFromPublic();

    SetupResult result = setup(db, request(TrackingScope.schemas("public"), false, true));

    assertThat(result.warnings()).anyMatch(w -> w.contains("pg_logical_emit_message is revoked from PUBLIC"));
    assertThat(Db.scalar(db, "SELECT prosecdef FROM pg_proc WHERE proname = '_bemi_row_trigger_func'")).isEqualTo(false);
  }

  @Test
  void tablesTheEventTriggerDidNotSeeArePublishedByTheNextSetupWithAGapMessage() throws Exception {
    SetupRequest tracking = request(TrackingScope.schemas("public"), true, false);
    setup(db, tracking);
    try (Connection c = PgConnections.open(db); java.sql.Statement s = c.createStatement()) {
      s.execute("SET session_replication_role = replica"); // as replication tools set it for their sessions
      s.execute("CREATE TABLE restored (id int PRIMARY KEY)");
      s.execute("RESET session_replication_role");
      s.execute("ALTER EVENT TRIGGER \"" + ManagedNames.forPublication(name).eventTrigger() + "\" DISABLE");
      s.execute("CREATE TABLE made_while_disabled (id int PRIMARY KEY)");
      s.execute("ALTER EVENT TRIGGER \"" + ManagedNames.forPublication(name).eventTrigger() + "\" ENABLE");
    }
    assertThat(published()).doesNotContain("public.restored", "public.made_while_disabled");

    SetupResult again = setup(db, tracking);

    assertThat(published()).contains("public.restored", "public.made_while_disabled");
    assertThat(again.executedSteps()).contains("gap message: public.restored published late");
    String messages = decodedMessages();
    for (String table : List.of("restored", "made_while_disabled")) {
      assertThat(messages).containsPattern("TableNotPublished.*\"table\" : \"" + table + "\".*published late by setup");
    }
  }

  @Test
  void aTableThatJoinsTheScopeBecauseTheScopeGrewIsNoGap() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), true, false));
    Db.execute(db, "CREATE SCHEMA billing", "CREATE TABLE billing.invoices (id int PRIMARY KEY)");

    setup(db, request(TrackingScope.schemas("public", "billing"), true, false));

    assertThat(published()).contains("billing.invoices");
    assertThat(decodedMessages()).doesNotContain("published late");
  }

  @Test
  void hostileIdentifiersAreTrackedAndNothingElseHappens() throws Exception {
    Db.execute(db,
        "CREATE SCHEMA \"Sch \"\"ema\"\"; --\"",
        "CREATE TABLE \"Sch \"\"ema\"\"; --\".\"x\"\"; DROP TABLE y; --\" (id int PRIMARY KEY)",
        "CREATE TABLE public.\"Zählung Ω\" (id int PRIMARY KEY)",
        "CREATE TABLE public.\"Orders\" (id int)",
        "CREATE TABLE public.y (id int)");
    QualifiedName hostile = new QualifiedName("Sch \"ema\"; --", "x\"; DROP TABLE y; --");
    TrackingScope scope = new TrackingScope(List.of("Sch \"ema\"; --"),
        List.of(new QualifiedName("public", "Zählung Ω"), new QualifiedName("public", "Orders")), List.of(), false);

    SetupResult result = setup(db, request(scope, true, true));

    assertThat(result.trackedTables()).containsExactlyInAnyOrder(hostile, new QualifiedName("public", "Zählung Ω"),
        new QualifiedName("public", "Orders"));
    assertThat(published()).containsExactlyInAnyOrder("Sch \"ema\"; --.x\"; DROP TABLE y; --", "public.Orders",
        "public.Zählung Ω");
    assertThat(count("SELECT count(*) FROM pg_tables WHERE tablename = 'y'")).isEqualTo(1);
    assertThat(replicaIdentity("public.y")).isEqualTo("d");
    assertThat(replicaIdentity("\"Sch \"\"ema\"\"; --\".\"x\"\"; DROP TABLE y; --\"")).isEqualTo("f");
    assertThat(setup(db, request(scope, true, true)).executedSteps()).isEmpty();
  }

  @Test
  void scopeChangesConvergeThePublication() throws Exception {
    setup(db, request(TrackingScope.tables(ORDERS), false, false));
    assertThat(published()).containsExactly("public.orders");

    SetupResult widened = setup(db, request(TrackingScope.tables(ORDERS, CUSTOMERS), false, false));
    assertThat(widened.executedSteps()).contains("ALTER PUBLICATION " + name + " ADD TABLE public.customers");
    assertThat(published()).containsExactly("public.customers", "public.orders");

    setup(db, request(new TrackingScope(List.of("public"), List.of(), List.of(ORDERS), false), false, false));
    assertThat(published()).containsExactly("public.customers");
  }

  @Test
  void publicationOrSlotOfSomeoneElseIsAConflictAndNothingIsTouched() throws Exception {
    Db.execute(db, "CREATE PUBLICATION " + name + " FOR TABLE customers");
    SetupException notOurs = catchThrowableOfType(SetupException.class,
        () -> setup(db, request(TrackingScope.schemas("public"), true, false)));
    assertThat(notOurs.reason()).isEqualTo("Conflict");
    assertThat(replicaIdentity("orders")).isEqualTo("d");
    assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isZero();

    Db.execute(db, "DROP PUBLICATION " + name);
    setup(db, request(TrackingScope.schemas("public"), false, false));
    SetupRequest otherOwner = new SetupRequest(name, name, Provider.SELF_MANAGED,
        TrackingScope.schemas("public"), false, false, "uid-2", null);
    assertThat(catchThrowableOfType(SetupException.class, () -> setup(db, otherOwner)).reason()).isEqualTo("Conflict");

    SetupRequest reusedSlot = new SetupRequest(name + "_other", name, Provider.SELF_MANAGED,
        TrackingScope.schemas("public"), false, false, "uid-3", null);
    assertThat(catchThrowableOfType(SetupException.class, () -> setup(db, reusedSlot)).getMessage())
        .contains("replication slot \"" + name + "\" exists");
    assertThat(count("SELECT count(*) FROM pg_publication WHERE pubname = '" + name + "_other'")).isZero();
  }

  @Test
  void aSlotWhosePublicationWasDroppedByHandIsTakenBackOnlyWhenTheCallerKnowsIt() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), false, false));
    Db.execute(db, "DROP PUBLICATION " + name);

    assertThat(catchThrowableOfType(SetupException.class,
        () -> setup(db, request(TrackingScope.schemas("public"), false, false))).reason()).isEqualTo("Conflict");

    SetupRequest adopting = new SetupRequest(name, name, Provider.SELF_MANAGED, TrackingScope.schemas("public"),
        false, false, "uid-1", null, true);
    try (Connection c = PgConnections.open(db)) {
      assertThat(Preflight.run(c, db, adopting).check(CheckId.EXISTING_SLOT).orElseThrow().status())
          .isEqualTo(CheckStatus.OK);
    }
    SetupResult repaired = setup(db, adopting);

    assertThat(repaired.executedSteps()).anyMatch(s -> s.startsWith("CREATE PUBLICATION"));
    assertThat(published()).containsExactly("public.customers", "public.orders");
    assertThat(ownerMarker().slot()).isEqualTo(name);
    assertThat(setup(db, request(TrackingScope.schemas("public"), false, false)).executedSteps()).isEmpty();
  }

  @Test
  void aFailingStepRollsBackEveryOtherStep() throws Exception {
    String role = "half_owner_" + version.major() + "_" + ROLES.incrementAndGet();
    Db.execute(db, "CREATE ROLE " + role + " LOGIN REPLICATION PASSWORD 'half-owner-password'",
        "GRANT CREATE ON DATABASE " + Identifiers.quote(db.database()) + " TO " + role,
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        "ALTER TABLE orders OWNER TO " + role);

    // orders can be made FULL, but the event trigger function cannot be created in public: nothing stays
    catchThrowableOfType(java.sql.SQLException.class, () -> setup(db.withUser(role, "half-owner-password"),
        request(TrackingScope.tables(ORDERS, CUSTOMERS), false, false)));

    assertThat(count("SELECT count(*) FROM pg_publication WHERE pubname = '" + name + "'")).isZero();
    assertThat(replicaIdentity("orders")).isEqualTo("d");
    assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isZero();
  }

  @Test
  void managedRoleCanLogInReplicateAndRead() throws Exception {
    String role = "pgtrail_managed_" + version.major() + "_" + ROLES.incrementAndGet();
    String password = "generated-" + java.util.UUID.randomUUID();
    SetupRequest withRole = new SetupRequest(name, name, Provider.SELF_MANAGED,
        TrackingScope.schemas("public"), false, false, "uid-1", new ManagedRole(role, password));

    SetupResult result = setup(db, withRole);

    assertThat(result.executedSteps()).noneMatch(s -> s.contains(password));
    assertThat(Db.scalar(db, "SELECT rolreplication FROM pg_roles WHERE rolname = ?", role)).isEqualTo(true);
    ConnectionSettings asRole = db.withUser(role, password);
    assertThat(Db.scalar(asRole, "SELECT count(*) FROM orders")).isEqualTo(0L);
    ((Connection) PgConnections.openReplication(asRole)).close();
    assertThat(setup(db, withRole).executedSteps()).isEmpty();
  }

  @Test
  void teardownWithRetainKeepsSlotAndPublicationButRemovesTriggers() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), true, true));

    TeardownResult result = teardown(new TeardownRequest(name, name, "uid-1", false));

    assertThat(result.skipped()).anyMatch(s -> s.contains("retained"));
    assertThat(count("SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE '\\_pgtrail%'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_proc WHERE proname LIKE '\\_pgtrail%' OR proname = '_bemi_row_trigger_func'"))
        .isZero();
    assertThat(count("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_bemi%'")).isZero();
    assertThat(published()).containsExactly("public.customers", "public.orders");
    assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isEqualTo(1);
    assertThat(replicaIdentity("orders")).isEqualTo("f");
  }

  @Test
  void teardownWithDeleteDropsOnlyWhatIsProvablyOurs() throws Exception {
    Db.execute(db, "ALTER TABLE customers REPLICA IDENTITY FULL");
    setup(db, request(TrackingScope.schemas("public"), true, false));

    TeardownResult foreign = teardown(new TeardownRequest(name, name, "uid-other", true));
    assertThat(foreign.executedSteps()).isEmpty();
    assertThat(count("SELECT count(*) FROM pg_publication WHERE pubname = '" + name + "'")).isEqualTo(1);

    teardown(new TeardownRequest(name, name, "uid-1", true));

    assertThat(count("SELECT count(*) FROM pg_publication WHERE pubname = '" + name + "'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + name + "'")).isZero();
    assertThat(replicaIdentity("orders")).isEqualTo("d");
    assertThat(replicaIdentity("customers")).as("was FULL before pgtrail").isEqualTo("f");
    assertThat(teardown(new TeardownRequest(name, name, "uid-1", true)).executedSteps()).isEmpty();
  }

  @Test
  void twoSourcesShareContextTriggersAndOnlyTheLastTeardownRemovesThem() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), false, true));
    SetupRequest second = new SetupRequest(name + "_b", name + "_b", Provider.SELF_MANAGED,
        TrackingScope.tables(ORDERS), false, true, "uid-2", null);
    setup(db, second);
    String triggers = "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_bemi\\_row\\_trigger\\_%'";
    assertThat(count(triggers)).as("the second source reuses the first one's triggers").isEqualTo(2);

    TeardownResult first = teardown(new TeardownRequest(name, name, "uid-1", true));

    assertThat(first.skipped()).anyMatch(s -> s.contains("orders") && s.contains("another pgtrail source"))
        .anyMatch(s -> s.contains("context function") && s.contains("still call it"));
    assertThat(count(triggers)).isEqualTo(1);
    teardown(new TeardownRequest(name + "_b", name + "_b", "uid-2", true));
    assertThat(count(triggers)).isZero();
    assertThat(count("SELECT count(*) FROM pg_proc WHERE proname = '_bemi_row_trigger_func'")).isZero();
  }

  @Test
  void twoSessionsCreatingTablesAtOnceNeitherWaitsAndTheNextSetupCatchesUp() throws Exception {
    setup(db, request(TrackingScope.schemas("public"), true, false));
    try (Connection first = PgConnections.open(db); Connection second = PgConnections.open(db)) {
      first.setAutoCommit(false);
      first.createStatement().execute("CREATE TABLE first_one (id int PRIMARY KEY)");
      java.sql.Statement s = second.createStatement();
      s.execute("SET lock_timeout = '1s'; CREATE TABLE second_one (id int PRIMARY KEY)");
      List<String> warnings = new java.util.ArrayList<>();
      for (java.sql.SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
        warnings.add(w.getMessage());
      }
      first.commit();
      // ALTER PUBLICATION ... ADD TABLE may have to wait for the other session: the event trigger does not
      // (lock_timeout), the statement succeeds, the table is reported and the next setup run adds it
      if (!published().contains("public.second_one")) {
        assertThat(warnings).anyMatch(w -> w.startsWith("pgtrail: ") && w.contains("lock timeout"));
      }
    }
    assertThat(published()).contains("public.first_one");
    setup(db, request(TrackingScope.schemas("public"), true, false));
    assertThat(published()).contains("public.first_one", "public.second_one");
  }

  private OwnerMarker ownerMarker() throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return Ownership.publicationMarker(c, name).orElseThrow();
    }
  }
}
