package io.pgtrail.postgres.preflight;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupRequest;
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
class PreflightTest {
  private static final AtomicInteger ROLES = new AtomicInteger();

  @Parameter PgVersion version;
  ConnectionSettings db;

  @BeforeEach
  void shopDatabase() {
    db = TestPostgres.newDatabase(version, "preflight");
    Db.execute(db,
        "CREATE TABLE orders (id bigserial PRIMARY KEY, total numeric, updated_at timestamptz)",
        "CREATE TABLE events (payload jsonb)");
  }

  private SetupRequest request(TrackingScope scope, boolean trackNewTables) {
    return new SetupRequest("pgtrail", "pgtrail", Provider.SELF_MANAGED, scope, trackNewTables, false, "uid-1", null);
  }

  private PreflightReport run(ConnectionSettings as, SetupRequest request) throws Exception {
    try (Connection c = PgConnections.open(as)) {
      return Preflight.run(c, as, request);
    }
  }

  @Test
  void superuserOnLogicalServerIsReadyWithWarningsForMissingKeyAndUnboundedWal() throws Exception {
    PreflightReport report = run(db, request(TrackingScope.schemas("public"), true));

    assertThat(report.ready()).as(report.failed().toString()).isTrue();
    assertThat(report.serverVersionNum() / 10000).isEqualTo(version.major());
    assertThat(report.check(CheckId.WAL_LEVEL).orElseThrow().status()).isEqualTo(CheckStatus.OK);
    assertThat(report.check(CheckId.TRACKED_TABLES).orElseThrow().observed()).isEqualTo("2 table(s) tracked");
    CheckResult keys = report.check(CheckId.PRIMARY_KEYS).orElseThrow();
    assertThat(keys.status()).isEqualTo(CheckStatus.WARNING);
    assertThat(keys.observed()).contains("\"public\".\"events\"");
    assertThat(report.check(CheckId.WAL_RETENTION_LIMIT).orElseThrow().status()).isEqualTo(CheckStatus.WARNING);
    assertThat(report.checks()).extracting(CheckResult::id).containsExactly(CheckId.values());
  }

  @Test
  void roleWithoutReplicationRightFailsWithProviderSpecificFix() throws Exception {
    String role = "plain_" + version.major() + "_" + ROLES.incrementAndGet();
    Db.execute(db, "CREATE ROLE " + role + " LOGIN PASSWORD 'plain-password-123'",
        "ALTER TABLE orders OWNER TO " + role);
    ConnectionSettings asPlain = db.withUser(role, "plain-password-123");

    PreflightReport report = run(asPlain, new SetupRequest("pgtrail", "pgtrail", Provider.AWS_RDS,
        TrackingScope.tables(new QualifiedName("public", "orders")), false, false, "uid-1", null));

    CheckResult replication = report.check(CheckId.REPLICATION_PRIVILEGE).orElseThrow();
    assertThat(replication.status()).isEqualTo(CheckStatus.FAILED);
    assertThat(replication.fixIt()).isEqualTo("Run GRANT rds_replication TO \"" + role + "\"; as the master user.");
    assertThat(report.check(CheckId.TABLE_OWNERSHIP).orElseThrow().status()).isEqualTo(CheckStatus.OK);
    assertThat(report.ready()).isFalse();
  }

  @Test
  void notOwnedTablesAreFindingsAndEventTriggersNeedRights() throws Exception {
    String role = "repl_" + version.major() + "_" + ROLES.incrementAndGet();
    Db.execute(db, "CREATE ROLE " + role + " LOGIN REPLICATION PASSWORD 'repl-password-1234'",
        "GRANT CREATE ON DATABASE " + Identifiers.quote(db.database()) + " TO " + role);
    ConnectionSettings asRepl = db.withUser(role, "repl-password-1234");

    PreflightReport report = run(asRepl, request(TrackingScope.schemas("public"), true));

    assertThat(report.check(CheckId.REPLICATION_PRIVILEGE).orElseThrow().status()).isEqualTo(CheckStatus.OK);
    assertThat(report.check(CheckId.TABLE_OWNERSHIP).orElseThrow().observed()).contains("\"public\".\"orders\"");
    assertThat(report.check(CheckId.EVENT_TRIGGER_PRIVILEGE).orElseThrow().status()).isEqualTo(CheckStatus.FAILED);
    assertThat(report.check(CheckId.TABLE_OWNERSHIP).orElseThrow().status())
        .as("left out or key-only is a finding, not a failure").isEqualTo(CheckStatus.WARNING);
    // table-list publications (never FOR TABLES IN SCHEMA) need no superuser
    assertThat(report.check(CheckId.PUBLICATION_PRIVILEGE).orElseThrow().status()).isEqualTo(CheckStatus.OK);
  }

  @Test
  void tablesWhoseWritesPublishingWouldBreakAreReportedAsLeftOut() throws Exception {
    Db.execute(db, "ALTER TABLE events REPLICA IDENTITY NOTHING",
        "CREATE TABLE changes (id uuid, primary_key text, committed_at timestamptz, transaction_id bigint,"
            + " position bigint)");

    PreflightReport report = run(db, request(TrackingScope.schemas("public"), false));

    CheckResult ownership = report.check(CheckId.TABLE_OWNERSHIP).orElseThrow();
    assertThat(ownership.status()).isEqualTo(CheckStatus.WARNING);
    assertThat(ownership.observed()).contains("1 table(s) will be left out").contains("\"public\".\"events\"");
    assertThat(report.check(CheckId.TRACKED_TABLES).orElseThrow().observed())
        .as("pgtrail's own changes table is never tracked").isEqualTo("2 table(s) tracked");
  }

  @Test
  void missingTablesAndSchemasAreNamed() throws Exception {
    TrackingScope scope = new TrackingScope(List.of("nope"), List.of(new QualifiedName("public", "Orders")), List.of(),
        false);
    PreflightReport report = run(db, request(scope, false));

    CheckResult tables = report.check(CheckId.TRACKED_TABLES).orElseThrow();
    assertThat(tables.status()).isEqualTo(CheckStatus.FAILED);
    assertThat(tables.observed()).contains("schema(s) not found: \"nope\"").contains("\"public\".\"Orders\"");
    assertThat(CheckId.TRACKED_TABLES.reason()).isEqualTo("TrackedTablesInvalid");
  }

  @Test
  void existingPublicationNotOursIsAConflict() throws Exception {
    Db.execute(db, "CREATE PUBLICATION pgtrail FOR TABLE orders");
    PreflightReport report = run(db, request(TrackingScope.schemas("public"), false));
    CheckResult publication = report.check(CheckId.EXISTING_PUBLICATION).orElseThrow();
    assertThat(publication.status()).isEqualTo(CheckStatus.FAILED);
    assertThat(publication.observed()).contains("was not created by pgtrail");
    assertThat(CheckId.EXISTING_PUBLICATION.reason()).isEqualTo("Conflict");
  }

  @Test
  void poolerEndpointIsRejectedWithTheProvidersDirectHost() throws Exception {
    ConnectionSettings viaPooler = db.withAddress("127.0.0.1", db.port());
    PreflightReport direct = run(viaPooler, request(TrackingScope.schemas("public"), false));
    assertThat(direct.check(CheckId.POOLER).orElseThrow().status()).isEqualTo(CheckStatus.OK);

    try (Connection c = PgConnections.open(db)) {
      ConnectionSettings supabasePooler = db.withAddress("aws-0-eu-central-1.pooler.supabase.com", 6543);
      PreflightReport report = Preflight.run(c, supabasePooler, new SetupRequest("pgtrail", "pgtrail",
          Provider.SUPABASE, TrackingScope.schemas("public"), false, false, "uid-1", null));
      CheckResult pooler = report.check(CheckId.POOLER).orElseThrow();
      assertThat(pooler.status()).isEqualTo(CheckStatus.FAILED);
      assertThat(pooler.fixIt()).contains("Use connection pooling");
    }
  }
}
