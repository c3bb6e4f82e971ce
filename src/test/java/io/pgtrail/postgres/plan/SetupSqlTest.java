package io.pgtrail.postgres.plan;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.Sql;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.catalog.TrackingSql;
import io.pgtrail.postgres.slots.ReplicationSlots;
import java.util.List;
import org.junit.jupiter.api.Test;

class SetupSqlTest {
  private static final QualifiedName ORDERS = new QualifiedName("public", "orders");
  private static final QualifiedName HOSTILE = new QualifiedName("public", "x\"; DROP TABLE y; --");

  @Test
  void scopeIsQuotedAsLiteralsAndExcludesPgtrailsOwnTables() {
    String predicate = TrackingSql.inScope(new TrackingScope(List.of("sh'op"), List.of(), List.of(HOSTILE), false),
        "c", "n");
    assertThat(predicate)
        .contains("n.nspname IN ('sh''op')")
        .contains("(n.nspname, c.relname) NOT IN (('public'::name, 'x\"; DROP TABLE y; --'::name))")
        .contains("c.relname = 'changes'")
        .contains("d.deptype = 'e'");
  }

  @Test
  void hostileIdentifiersAreQuotedNotSpliced() {
    assertThat(SetupSql.commentOnPublication("p", "it's {\"a\":1}"))
        .isEqualTo("COMMENT ON PUBLICATION \"p\" IS 'it''s {\"a\":1}'");
    SetupRequest hostile = new SetupRequest("p", "s", Provider.SELF_MANAGED,
        TrackingScope.tables(HOSTILE), true, true, "uid'1", null);
    String script = SetupScripts.setup(hostile, null);
    assertThat(script).contains("('public'::name, 'x\"; DROP TABLE y; --'::name)").contains("IS DISTINCT FROM 'uid''1'");
  }

  @Test
  void eventTriggerGuardsEveryActionAndNeverWaits() {
    String body = EventTriggerSql.body(new SetupRequest("orders", "orders", Provider.SELF_MANAGED,
        TrackingScope.schemas("public"), true, true, "uid-1", null));
    assertThat(body)
        .contains("pg_event_trigger_ddl_commands()")
        .contains("AND l.mode = 'AccessExclusiveLock'")
        .contains("ALTER PUBLICATION %I ADD TABLE %I.%I', 'orders'")
        .contains("cand.created AND root.in_scope AND rel.relreplident = 'd'")
        .doesNotContain("FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n    WHERE");
    assertThat(body.split("EXCEPTION WHEN OTHERS", -1))
        .as("4 guarded actions, 3 guarded gap messages and 1 guarded keys message").hasSize(9);
    assertThat(body.split("BEGIN\n +PERFORM pg_logical_emit_message\\(true, 'pgtrail', json_build_object\\("
        + "'gap', 'TableNotPublished', 'publication', 'orders', ", -1)).as("each in its own block").hasSize(4);
    assertThat(body).as("the published table's key, column names only, in its own block").contains(
        "      IF added OR is_member AND root.in_scope AND can_publish THEN\n        BEGIN\n"
            + "          PERFORM pg_logical_emit_message(true, 'pgtrail', json_build_object('keys', json_build_object("
            + "'relation', root.oid, 'schema', root.nspname, 'table', root.relname, 'columns', COALESCE((SELECT"
            + " pg_catalog.array_agg(a.attname::text ORDER BY k.ord) FROM pg_catalog.pg_index i",
        "WHERE i.indrelid = root.oid AND i.indisprimary), '{}')))::text);\n        EXCEPTION WHEN OTHERS THEN\n"
            + "          RAISE WARNING 'pgtrail: the primary key of %.% not sent to the worker: %'");
    assertThat(EventTriggerSql.setClauses()).contains("search_path = pg_catalog, pg_temp").contains("lock_timeout");
    String without = EventTriggerSql.body(new SetupRequest("orders", "orders", Provider.SELF_MANAGED,
        TrackingScope.schemas("public"), false, false, "uid-1", null));
    assertThat(without).doesNotContain("ADD TABLE").doesNotContain("CREATE TRIGGER");
  }

  @Test
  void managedRolePerProvider() {
    assertThat(SetupSql.createReplicationRole("r", Provider.SELF_MANAGED))
        .isEqualTo("CREATE ROLE \"r\" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION");
    assertThat(SetupSql.createReplicationRole("r", Provider.AWS_RDS)).endsWith("NOREPLICATION");
    assertThat(SetupSql.grantReplication("r", Provider.AWS_RDS)).containsExactly("GRANT rds_replication TO \"r\"");
    assertThat(SetupSql.grantReplication("r", Provider.GCP_CLOUD_SQL))
        .containsExactly("ALTER ROLE \"r\" WITH REPLICATION");
    for (Provider grantsByAlterRole : new Provider[] {Provider.DIGITAL_OCEAN, Provider.AZURE}) {
      assertThat(SetupSql.createReplicationRole("r", grantsByAlterRole)).endsWith("NOREPLICATION");
      assertThat(SetupSql.grantReplication("r", grantsByAlterRole)).containsExactly("ALTER ROLE \"r\" WITH REPLICATION");
    }
    assertThat(Provider.TIMESCALE.canCreateReplicationRole()).isFalse();
    assertThat(SetupSql.grantSchemaRead("r", "public")).containsExactly(
        "GRANT USAGE ON SCHEMA \"public\" TO \"r\"",
        "GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"r\"",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA \"public\" GRANT SELECT ON TABLES TO \"r\"");
  }

  @Test
  void contextFunctionIsBemisRunningAsItsOwnerWithAPinnedSearchPath() {
    assertThat(SetupSql.createContextFunction("public"))
        .startsWith("CREATE FUNCTION \"public\"._bemi_row_trigger_func()")
        .contains("SECURITY DEFINER SET search_path = pg_catalog, pg_temp")
        .contains("split_part(split_part(current_query(), '/*Bemi ', 2), ' Bemi*/', 1)")
        .contains("pg_logical_emit_message(true, '_bemi', _bemi_metadata)")
        .doesNotContain("EXCEPTION");
    assertThat(SetupSql.createContextFunctionTemplate()).startsWith("CREATE FUNCTION %I.");
  }

  @Test
  void managedNamesStayWithin63Bytes() {
    ManagedNames names = ManagedNames.forPublication("p".repeat(63));
    assertThat(names.eventTrigger().length()).isLessThanOrEqualTo(63);
    assertThat(names.procedure()).isNotEqualTo(ManagedNames.forPublication("p".repeat(62) + "q").procedure());
  }

  @Test
  void slotStatementsBindTheName() {
    Sql create = ReplicationSlots.createSlot("s1");
    assertThat(create.text()).isEqualTo("SELECT pg_create_logical_replication_slot(?, 'pgoutput')");
    assertThat(create.params()).containsExactly("s1");
    assertThat(create.inline()).isEqualTo("SELECT pg_create_logical_replication_slot('s1', 'pgoutput')");
  }

  @Test
  void scopeUnionKeepsExclusionsOnlyWhenNoScopeWantsThem() {
    TrackingScope a = new TrackingScope(List.of("public"), List.of(), List.of(ORDERS), false);
    TrackingScope b = TrackingScope.tables(ORDERS);
    TrackingScope union = a.union(b);
    assertThat(union.excludeTables()).isEmpty();
    assertThat(union.includes(ORDERS)).isTrue();
    TrackingScope c = new TrackingScope(List.of("public"), List.of(), List.of(ORDERS), false);
    assertThat(a.union(c).excludeTables()).containsExactly(ORDERS);
  }

  @Test
  void ownerMarkerRoundTrips() {
    OwnerMarker marker = new OwnerMarker("uid-1", "slot", List.of(HOSTILE), List.of(ORDERS), "public");
    assertThat(OwnerMarker.parse(marker.toComment())).contains(marker);
    assertThat(OwnerMarker.parse("created by hand")).isEmpty();
    assertThat(OwnerMarker.parse("{\"managedBy\":\"someone-else\"}")).isEmpty();
  }
}
