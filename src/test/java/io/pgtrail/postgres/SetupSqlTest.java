package io.pgtrail.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SetupSqlTest {
  private static final QualifiedName ORDERS = new QualifiedName("public", "orders");
  private static final QualifiedName HOSTILE = new QualifiedName("public", "x\"; DROP TABLE y; --");

  @Test
  void publicationForAllTables() {
    PublicationShape shape = PublicationShape.forScope(TrackingScope.everyTable(), List.of(), 17);
    assertThat(SetupSql.createPublication("pgtrail", shape)).isEqualTo("CREATE PUBLICATION \"pgtrail\" FOR ALL TABLES");
  }

  @Test
  void publicationForSchemasOn15AndLaterPlusExtraTables() {
    TrackingScope scope = new TrackingScope(List.of("shop", "public"), List.of(new QualifiedName("audit", "log")),
        List.of(), false);
    PublicationShape shape = PublicationShape.forScope(scope, List.of(), 15);
    assertThat(SetupSql.createPublication("p", shape))
        .isEqualTo("CREATE PUBLICATION \"p\" FOR TABLES IN SCHEMA \"public\", \"shop\", TABLE \"audit\".\"log\"");
  }

  @Test
  void publicationFallsBackToTableListOn14OrWithExclusions() {
    TrackingScope scope = new TrackingScope(List.of("public"), List.of(), List.of(ORDERS), false);
    List<QualifiedName> resolved = List.of(new QualifiedName("public", "b"), new QualifiedName("public", "a"));
    assertThat(SetupSql.createPublication("p", PublicationShape.forScope(scope, resolved, 17)))
        .isEqualTo("CREATE PUBLICATION \"p\" FOR TABLE \"public\".\"a\", \"public\".\"b\"");
    assertThat(SetupSql.createPublication("p", PublicationShape.forScope(TrackingScope.schemas("public"), resolved, 14)))
        .isEqualTo("CREATE PUBLICATION \"p\" FOR TABLE \"public\".\"a\", \"public\".\"b\"");
  }

  @Test
  void emptyPublicationHasNoForClause() {
    PublicationShape shape = PublicationShape.forScope(TrackingScope.schemas("public"), List.of(), 14);
    assertThat(SetupSql.createPublication("p", shape)).isEqualTo("CREATE PUBLICATION \"p\"");
  }

  @Test
  void convergeUsesSetOrRecreatesWhenSetCannotExpressIt() {
    PublicationShape list = new PublicationShape(false, List.of(), List.of(ORDERS));
    assertThat(SetupSql.convergePublication("p", false, list))
        .containsExactly("ALTER PUBLICATION \"p\" SET TABLE \"public\".\"orders\"");
    assertThat(SetupSql.convergePublication("p", true, list))
        .containsExactly("DROP PUBLICATION IF EXISTS \"p\"", "CREATE PUBLICATION \"p\" FOR TABLE \"public\".\"orders\"");
    assertThat(SetupSql.convergePublication("p", false, new PublicationShape(false, List.of(), List.of())))
        .containsExactly("DROP PUBLICATION IF EXISTS \"p\"", "CREATE PUBLICATION \"p\"");
  }

  @Test
  void hostileIdentifiersAreQuotedNotSpliced() {
    assertThat(SetupSql.replicaIdentityFull(HOSTILE))
        .isEqualTo("ALTER TABLE \"public\".\"x\"\"; DROP TABLE y; --\" REPLICA IDENTITY FULL");
    assertThat(SetupSql.commentOnPublication("p", "it's {\"a\":1}"))
        .isEqualTo("COMMENT ON PUBLICATION \"p\" IS 'it''s {\"a\":1}'");
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
  void contextTriggerUsesBemiNamesCutTo63Bytes() {
    assertThat(SetupSql.createContextTrigger(ORDERS, "public")).isEqualTo(
        "CREATE TRIGGER \"_bemi_row_trigger_orders\" BEFORE INSERT OR UPDATE OR DELETE ON \"public\".\"orders\""
            + " FOR EACH ROW EXECUTE FUNCTION \"public\"._bemi_row_trigger_func()");
    String longName = SetupSql.contextTriggerName(new QualifiedName("public", "ü".repeat(40)));
    assertThat(longName.getBytes(java.nio.charset.StandardCharsets.UTF_8)).hasSizeLessThanOrEqualTo(63);
    assertThat(longName).startsWith("_bemi_row_trigger_üü");
    assertThat(SetupSql.createContextFunction("public"))
        .contains("split_part(split_part(current_query(), '/*Bemi ', 2), ' Bemi*/', 1)")
        .contains("pg_logical_emit_message(true, '_bemi', _bemi_metadata)");
  }

  @Test
  void newTableTrackingUsesPgtrailNamesAndGuardsEveryAction() {
    ManagedNames names = ManagedNames.forPublication("orders");
    assertThat(names.procedure()).isEqualTo("_pgtrail_ri_orders");
    assertThat(SetupSql.createEventTrigger(names, "public")).isEqualTo(
        "CREATE EVENT TRIGGER \"_pgtrail_ri_orders_trigger\" ON ddl_command_end"
            + " WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')"
            + " EXECUTE FUNCTION \"public\".\"_pgtrail_ri_orders_func\"()");
    String body = SetupSql.newTableProcedureBody(new SetupSql.NewTableRules("orders",
        new TrackingScope(List.of("sh'op"), List.of(), List.of(HOSTILE), false), true, null));
    assertThat(body)
        .contains("n.nspname IN ('sh''op')")
        .contains("(n.nspname, c.relname) NOT IN (('public'::name, 'x\"; DROP TABLE y; --'::name))")
        .contains("ALTER PUBLICATION %I ADD TABLE %I.%I', 'orders'")
        .contains("EXCEPTION WHEN insufficient_privilege");
    assertThat(SetupSql.dropNewTableTracking(names, "public")).containsExactly(
        "DROP EVENT TRIGGER IF EXISTS \"_pgtrail_ri_orders_trigger\"",
        "DROP FUNCTION IF EXISTS \"public\".\"_pgtrail_ri_orders_func\"()",
        "DROP PROCEDURE IF EXISTS \"public\".\"_pgtrail_ri_orders\"()");
  }

  @Test
  void managedNamesStayWithin63Bytes() {
    ManagedNames names = ManagedNames.forPublication("p".repeat(63));
    assertThat(names.eventTrigger().length()).isLessThanOrEqualTo(63);
    assertThat(names.procedure()).isNotEqualTo(ManagedNames.forPublication("p".repeat(62) + "q").procedure());
  }

  @Test
  void slotStatementsBindTheName() {
    SetupSql.Sql create = SetupSql.createSlot("s1");
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
