package io.pgtrail.postgres.preflight;

import io.pgtrail.postgres.catalog.Catalog;
import io.pgtrail.postgres.catalog.GeneratedColumns;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.ScopeResolution;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.plan.OwnerMarker;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupPlan;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.slots.FailoverSlots;
import io.pgtrail.postgres.slots.ReplicationSlots;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Tells whether a database is ready for change data capture, check by check, and how to fix what is
 * not, in the words of the hosting provider. Reads the catalog only; changes nothing.
 */
public final class Preflight {
  private static final int LISTED = 5;

  private final Connection connection;
  private final ConnectionSettings target;
  private final SetupRequest request;
  private final Provider provider;

  private Preflight(Connection connection, ConnectionSettings target, SetupRequest request) {
    this.connection = connection;
    this.target = target;
    this.request = request;
    this.provider = request.provider();
  }

  public static PreflightReport run(Connection c, ConnectionSettings target, SetupRequest request)
      throws SQLException {
    return new Preflight(c, target, request).run();
  }

  private PreflightReport run() throws SQLException {
    Catalog.ServerFacts server = Catalog.server(connection);
    Catalog.RoleFacts role = Catalog.role(connection);
    ScopeResolution scope = ScopeResolution.resolve(connection, request.scope());
    Optional<Catalog.PublicationFacts> publication =
        Catalog.publication(connection, request.publication(), server.major());
    Optional<ReplicationSlots.SlotStatus> slot = ReplicationSlots.read(connection, request.slot());

    List<CheckResult> checks = new ArrayList<>();
    checks.add(serverVersion(server));
    checks.add(walLevel(server));
    checks.add(replicationRight(role));
    checks.add(replicationSlots(server, slot.isPresent()));
    checks.add(walSenders(server));
    checks.add(pooler());
    checks.add(publicationRight(role, publication));
    checks.add(tableOwnership(scope, publication));
    checks.add(eventTriggerRight(role));
    checks.add(trackedTables(scope));
    checks.add(primaryKeys(scope));
    checks.add(virtualGeneratedColumns(server, scope));
    checks.add(walRetention(server));
    checks.add(idleSlotTimeout(server));
    checks.add(failoverSlot(server));
    checks.add(existingSlot(slot, publication));
    checks.add(existingPublication(publication));
    return new PreflightReport(server.version(), server.versionNum(), checks);
  }

  private CheckResult serverVersion(Catalog.ServerFacts server) {
    if (server.major() < SetupPlan.MIN_SERVER_MAJOR) {
      return CheckResult.failed(CheckId.SERVER_VERSION, "PostgreSQL " + server.version(),
          "pgtrail needs PostgreSQL " + SetupPlan.MIN_SERVER_MAJOR + " or newer: upgrade the server.");
    }
    return CheckResult.ok(CheckId.SERVER_VERSION, "PostgreSQL " + server.version());
  }

  private CheckResult walLevel(Catalog.ServerFacts server) {
    if (!"logical".equals(server.walLevel())) {
      return CheckResult.failed(CheckId.WAL_LEVEL, "wal_level = " + server.walLevel(),
          ProviderGuide.walLevel(provider));
    }
    return CheckResult.ok(CheckId.WAL_LEVEL, "wal_level = logical");
  }

  private CheckResult replicationRight(Catalog.RoleFacts role) {
    if (request.managedRole() != null) {
      return managedRoleRight(role);
    }
    String who = "role " + Identifiers.quote(role.name());
    if (role.superuser()) {
      return CheckResult.ok(CheckId.REPLICATION_PRIVILEGE, who + " is a superuser");
    }
    if (role.replication()) {
      return CheckResult.ok(CheckId.REPLICATION_PRIVILEGE, who + " has REPLICATION");
    }
    if (role.rdsReplication()) {
      return CheckResult.ok(CheckId.REPLICATION_PRIVILEGE, who + " is a member of rds_replication");
    }
    return CheckResult.failed(CheckId.REPLICATION_PRIVILEGE,
        who + " has neither REPLICATION nor superuser" + (provider == Provider.AWS_RDS ? " nor rds_replication" : ""),
        ProviderGuide.replicationRight(provider, role.name()));
  }

  private CheckResult managedRoleRight(Catalog.RoleFacts role) {
    String who = "role " + Identifiers.quote(role.name());
    if (!provider.canCreateReplicationRole()) {
      return CheckResult.failed(CheckId.REPLICATION_PRIVILEGE,
          provider.displayName() + " does not allow new roles with REPLICATION",
          "Use credentials.mode provided with the platform's own user. " + ProviderGuide.replicationRight(provider,
              role.name()));
    }
    boolean canCreate = role.superuser() || role.createRole() && (provider != Provider.SELF_MANAGED || role.replication());
    if (!canCreate) {
      return CheckResult.failed(CheckId.REPLICATION_PRIVILEGE,
          who + " cannot create a replication role (needs CREATEROLE" + (provider == Provider.SELF_MANAGED
              ? " and REPLICATION, or superuser)" : ")"),
          "Connect with a role that has CREATEROLE (and REPLICATION), or use credentials.mode provided.");
    }
    return CheckResult.ok(CheckId.REPLICATION_PRIVILEGE, who + " can create the replication role "
        + Identifiers.quote(request.managedRole().name()));
  }

  private CheckResult replicationSlots(Catalog.ServerFacts server, boolean slotExists) {
    String observed = server.slotsUsed() + " of max_replication_slots = " + server.maxReplicationSlots() + " in use";
    if (slotExists) {
      return CheckResult.ok(CheckId.REPLICATION_SLOTS, observed + " (the slot exists already)");
    }
    if (server.slotsUsed() >= server.maxReplicationSlots()) {
      return CheckResult.failed(CheckId.REPLICATION_SLOTS, observed,
          "Raise max_replication_slots (needs a restart) or drop unused slots: "
              + "SELECT slot_name, active FROM pg_replication_slots;");
    }
    return CheckResult.ok(CheckId.REPLICATION_SLOTS, observed);
  }

  private CheckResult walSenders(Catalog.ServerFacts server) {
    String observed = server.walSendersUsed() + " of max_wal_senders = " + server.maxWalSenders() + " in use";
    if (server.walSendersUsed() >= server.maxWalSenders()) {
      return CheckResult.failed(CheckId.WAL_SENDERS, observed, "Raise max_wal_senders (needs a restart).");
    }
    return CheckResult.ok(CheckId.WAL_SENDERS, observed);
  }

  private CheckResult pooler() {
    String host = target.host().toLowerCase(Locale.ROOT);
    boolean poolerHost = host.contains("pooler") || host.contains("pgbouncer") || host.contains("supavisor");
    boolean poolerPort = target.port() == 6543 || target.port() == 6432;
    if (poolerHost || poolerPort) {
      return CheckResult.failed(CheckId.POOLER, target.host() + ":" + target.port() + " looks like a connection pooler",
          ProviderGuide.pooler(provider));
    }
    return CheckResult.ok(CheckId.POOLER, target.host() + ":" + target.port());
  }

  private CheckResult publicationRight(Catalog.RoleFacts role, Optional<Catalog.PublicationFacts> publication) {
    if (publication.isPresent() && !publication.get().owned() && !role.superuser()) {
      return CheckResult.failed(CheckId.PUBLICATION_PRIVILEGE,
          "publication " + Identifiers.quote(request.publication()) + " belongs to another role",
          "Connect as the publication's owner, or choose another publication name.");
    }
    if (publication.isEmpty() && !role.createOnDatabase() && !role.superuser()) {
      return CheckResult.failed(CheckId.PUBLICATION_PRIVILEGE,
          "role " + Identifiers.quote(role.name()) + " lacks CREATE on the database",
          "Run GRANT CREATE ON DATABASE " + Identifiers.quote(target.database()) + " TO "
              + Identifiers.quote(role.name()) + ";");
    }
    return CheckResult.ok(CheckId.PUBLICATION_PRIVILEGE, "a table-list publication (publish_via_partition_root)");
  }

  /**
   * Tables setup cannot make safe to publish are left out (never published so that their UPDATE or DELETE
   * would fail), and tables whose DEFAULT identity it may not change keep key-only before images: both are
   * findings, not failures, because tracking the rest is still right.
   */
  private CheckResult tableOwnership(ScopeResolution scope, Optional<Catalog.PublicationFacts> publication) {
    List<QualifiedName> leftOut = scope.tables().stream().filter(Catalog.TableFacts::leftOut)
        .map(Catalog.TableFacts::name).toList();
    List<QualifiedName> keyOnly = scope.tables().stream().filter(t -> !t.leftOut() && t.keyOnly())
        .map(Catalog.TableFacts::name).toList();
    if (leftOut.isEmpty() && keyOnly.isEmpty()) {
      return CheckResult.ok(CheckId.TABLE_OWNERSHIP, "all " + scope.tables().size()
          + " tracked tables can be given REPLICA IDENTITY FULL or keep the identity they have");
    }
    List<String> observed = new ArrayList<>();
    if (!leftOut.isEmpty()) {
      observed.add(leftOut.size() + " table(s) will be left out of tracking (no usable replica identity, and not"
          + " owned by this role, or REPLICA IDENTITY NOTHING): " + list(leftOut));
    }
    if (!keyOnly.isEmpty()) {
      observed.add(keyOnly.size() + " table(s) will be recorded with key-only before images (their identity is"
          + " USING INDEX, or DEFAULT and not owned by this role): " + list(keyOnly));
    }
    return CheckResult.warning(CheckId.TABLE_OWNERSHIP, String.join("; ", observed),
        ProviderGuide.tableOwnership(provider));
  }

  private CheckResult eventTriggerRight(Catalog.RoleFacts role) {
    if (!request.trackNewTables()) {
      return CheckResult.skipped(CheckId.EVENT_TRIGGER_PRIVILEGE, "tracking of new tables is off");
    }
    if (!request.scope().coversNewTables()) {
      return CheckResult.skipped(CheckId.EVENT_TRIGGER_PRIVILEGE, "the scope lists tables only; new tables are not in it");
    }
    boolean allowed = role.superuser()
        || provider == Provider.AWS_RDS && role.rdsSuperuser()
        || provider == Provider.GCP_CLOUD_SQL && role.cloudSqlSuperuser();
    if (!allowed) {
      return CheckResult.failed(CheckId.EVENT_TRIGGER_PRIVILEGE,
          "role " + Identifiers.quote(role.name()) + " cannot create event triggers", ProviderGuide.eventTrigger(provider));
    }
    return CheckResult.ok(CheckId.EVENT_TRIGGER_PRIVILEGE, "role " + Identifiers.quote(role.name()) + " can create event triggers");
  }

  private CheckResult trackedTables(ScopeResolution scope) {
    List<String> problems = new ArrayList<>();
    if (!scope.missingSchemas().isEmpty()) {
      problems.add("schema(s) not found: " + scope.missingSchemas().stream().map(Identifiers::quote)
          .collect(Collectors.joining(", ")));
    }
    if (!scope.missingTables().isEmpty()) {
      problems.add("table(s) not found: " + list(scope.missingTables()));
    }
    if (!problems.isEmpty()) {
      return CheckResult.failed(CheckId.TRACKED_TABLES, String.join("; ", problems),
          "Fix the names in the tracking configuration (names are case-sensitive, as in the catalog), or create them.");
    }
    if (scope.tables().isEmpty()) {
      return CheckResult.warning(CheckId.TRACKED_TABLES, "no table matches the tracking scope yet",
          "Nothing will be recorded until tables exist in the tracked schemas.");
    }
    return CheckResult.ok(CheckId.TRACKED_TABLES, scope.tables().size() + " table(s) tracked");
  }

  private CheckResult primaryKeys(ScopeResolution scope) {
    List<QualifiedName> withoutKey = scope.tables().stream()
        .filter(t -> !t.hasPrimaryKey())
        .map(Catalog.TableFacts::name)
        .toList();
    if (!withoutKey.isEmpty()) {
      return CheckResult.warning(CheckId.PRIMARY_KEYS, withoutKey.size() + " table(s) without primary key: "
          + list(withoutKey), "Their changes are recorded with an empty primary_key; add a primary key to find "
          + "a row's history by key.");
    }
    return CheckResult.ok(CheckId.PRIMARY_KEYS, "every tracked table has a primary key");
  }

  /** PostgreSQL 18: virtual generated columns cannot be published, so their tables cannot have REPLICA IDENTITY FULL. */
  private CheckResult virtualGeneratedColumns(Catalog.ServerFacts server, ScopeResolution scope) throws SQLException {
    if (server.major() < GeneratedColumns.FIRST_MAJOR) {
      return CheckResult.skipped(CheckId.VIRTUAL_GENERATED_COLUMNS, "PostgreSQL " + server.major()
          + " has no virtual generated columns");
    }
    Set<QualifiedName> virtual = GeneratedColumns.tablesWithVirtualColumns(connection);
    List<Catalog.TableFacts> affected = scope.tables().stream().filter(t -> virtual.contains(t.name())).toList();
    if (affected.isEmpty()) {
      return CheckResult.ok(CheckId.VIRTUAL_GENERATED_COLUMNS, "no tracked table has virtual generated columns");
    }
    List<QualifiedName> names = affected.stream().map(Catalog.TableFacts::name).toList();
    List<QualifiedName> withoutKey = affected.stream().filter(t -> !t.hasPrimaryKey()).map(Catalog.TableFacts::name)
        .toList();
    String fix = "PostgreSQL 18 cannot publish virtual generated columns and rejects UPDATE and DELETE on tables whose"
        + " REPLICA IDENTITY FULL holds one, so pgtrail leaves these tables' replica identity alone: their updates and"
        + " deletes record only the primary key in before, and virtual columns are never recorded. Make the columns"
        + " STORED (they are then recorded in full) or stop tracking the tables.";
    if (!withoutKey.isEmpty()) {
      return CheckResult.warning(CheckId.VIRTUAL_GENERATED_COLUMNS, withoutKey.size() + " table(s) in scope with"
          + " virtual generated columns and no primary key: " + list(withoutKey), "Without a primary key such a"
          + " table has no usable replica identity (PostgreSQL would reject its UPDATE and DELETE once published),"
          + " so setup leaves it out of tracking: add a primary key or make the columns STORED. " + fix);
    }
    return CheckResult.warning(CheckId.VIRTUAL_GENERATED_COLUMNS, names.size() + " tracked table(s) with virtual"
        + " generated columns: " + list(names), fix);
  }

  private CheckResult walRetention(Catalog.ServerFacts server) {
    String value = server.maxSlotWalKeepSize();
    if (value == null || "-1".equals(value.trim())) {
      return CheckResult.warning(CheckId.WAL_RETENTION_LIMIT, "max_slot_wal_keep_size = -1 (unbounded)",
          "A stopped worker makes the slot retain WAL without limit and can fill the disk: set "
              + "max_slot_wal_keep_size (e.g. ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; then reload), "
              + "and alert on slot lag.");
    }
    return CheckResult.ok(CheckId.WAL_RETENTION_LIMIT, "max_slot_wal_keep_size = " + value);
  }

  /** PostgreSQL 18 invalidates a slot nobody reads for idle_replication_slot_timeout: a stopped worker's slot. */
  private CheckResult idleSlotTimeout(Catalog.ServerFacts server) throws SQLException {
    if (server.major() < FailoverSlots.IDLE_TIMEOUT_MAJOR) {
      return CheckResult.skipped(CheckId.IDLE_SLOT_TIMEOUT, "PostgreSQL " + server.major()
          + " has no idle_replication_slot_timeout");
    }
    long seconds = FailoverSlots.idleSlotTimeoutSeconds(connection);
    if (seconds <= 0) {
      return CheckResult.ok(CheckId.IDLE_SLOT_TIMEOUT, "idle_replication_slot_timeout = 0 (idle slots are kept)");
    }
    return CheckResult.warning(CheckId.IDLE_SLOT_TIMEOUT, "idle_replication_slot_timeout = "
        + humanSeconds(seconds), ProviderGuide.idleSlotTimeout(provider, humanSeconds(seconds)));
  }

  private CheckResult failoverSlot(Catalog.ServerFacts server) throws SQLException {
    FailoverSlots.StandbyFacts standbys = FailoverSlots.standbys(connection);
    if (!FailoverSlots.supported(server.major())) {
      if (standbys.standbysAttached()) {
        return CheckResult.warning(CheckId.FAILOVER_SLOT, standbys.streamingStandbys() + " standby(s) attached, but"
            + " PostgreSQL " + server.major() + " cannot synchronize logical slots to them", "After a promotion the slot"
            + " is gone: pgtrail records a gap and stops. Failover slots need PostgreSQL " + FailoverSlots.FIRST_MAJOR
            + "+; see docs/high-availability.md.");
      }
      return CheckResult.skipped(CheckId.FAILOVER_SLOT, "failover slots need PostgreSQL " + FailoverSlots.FIRST_MAJOR
          + " or newer");
    }
    if (!request.failoverSlot()) {
      return CheckResult.skipped(CheckId.FAILOVER_SLOT, "failover slots are turned off for this source");
    }
    Optional<FailoverSlots.SlotFlags> flags = FailoverSlots.flags(connection, request.slot());
    FailoverSlots.Readiness readiness = FailoverSlots.assess(server.major(), true, request.slot(), flags, standbys);
    if (readiness.ready()) {
      return CheckResult.ok(CheckId.FAILOVER_SLOT, readiness.observed());
    }
    if (standbys.synchronizedStandbySlots().isEmpty() && !standbys.standbysAttached()
        && flags.map(FailoverSlots.SlotFlags::failover).orElse(true)) {
      // a single server: nothing to fail over to, nothing to fix
      return CheckResult.ok(CheckId.FAILOVER_SLOT, readiness.observed());
    }
    return CheckResult.warning(CheckId.FAILOVER_SLOT, readiness.observed(), readiness.fixIt());
  }

  static String humanSeconds(long seconds) {
    if (seconds % 86400 == 0) {
      return seconds / 86400 + "d";
    }
    if (seconds % 3600 == 0) {
      return seconds / 3600 + "h";
    }
    return seconds % 60 == 0 ? seconds / 60 + "min" : seconds + "s";
  }

  private CheckResult existingSlot(Optional<ReplicationSlots.SlotStatus> slot,
      Optional<Catalog.PublicationFacts> publication) throws SQLException {
    String name = Identifiers.quote(request.slot());
    if (slot.isEmpty()) {
      return CheckResult.ok(CheckId.EXISTING_SLOT, "slot " + name + " will be created");
    }
    ReplicationSlots.SlotStatus s = slot.get();
    if (!ReplicationSlots.PLUGIN.equals(s.plugin())) {
      return CheckResult.failed(CheckId.EXISTING_SLOT, "slot " + name + " exists with plugin " + s.plugin(),
          "Choose another slot name, or drop it: SELECT pg_drop_replication_slot(" + Identifiers.literal(request.slot()) + ");");
    }
    if (!connection.getCatalog().equals(s.database())) {
      return CheckResult.failed(CheckId.EXISTING_SLOT, "slot " + name + " exists for database " + Identifiers.quote(s.database()),
          "Slot names are unique per server: choose another slot name.");
    }
    Optional<OwnerMarker> marker = publication.flatMap(p -> OwnerMarker.parse(p.comment()));
    boolean ours = marker.isPresent() && marker.get().ownerId().equals(request.ownerId())
        && request.slot().equals(marker.get().slot());
    boolean adopted = !ours && publication.isEmpty() && request.adoptExistingSlot();
    if (adopted) {
      return CheckResult.ok(CheckId.EXISTING_SLOT, "slot " + name + " exists and is taken back (created earlier for"
          + " this source; its publication is gone and will be created again)");
    }
    if (!ours) {
      return CheckResult.failed(CheckId.EXISTING_SLOT, "slot " + name + " exists and was not created for this source",
          "Choose another slot name, or drop the old slot if nothing uses it: SELECT pg_drop_replication_slot("
              + Identifiers.literal(request.slot()) + ");");
    }
    return CheckResult.ok(CheckId.EXISTING_SLOT, "slot " + name + " exists" + (s.active() ? " and is in use" : "")
        + ", retaining " + s.retainedWalBytes() + " bytes of WAL");
  }

  private CheckResult existingPublication(Optional<Catalog.PublicationFacts> publication) {
    String name = Identifiers.quote(request.publication());
    if (publication.isEmpty()) {
      return CheckResult.ok(CheckId.EXISTING_PUBLICATION, "publication " + name + " will be created");
    }
    Optional<OwnerMarker> marker = OwnerMarker.parse(publication.get().comment());
    if (marker.isPresent() && marker.get().ownerId().equals(request.ownerId())) {
      return CheckResult.ok(CheckId.EXISTING_PUBLICATION, "publication " + name + " exists and is managed by pgtrail");
    }
    String observed = marker.isPresent()
        ? "publication " + name + " is managed by another pgtrail source (" + marker.get().ownerId() + ")"
        : "publication " + name + " exists and was not created by pgtrail";
    return CheckResult.failed(CheckId.EXISTING_PUBLICATION, observed,
        "Choose another publication name, or drop the existing one if nothing uses it: DROP PUBLICATION " + name + ";");
  }

  private static String list(List<QualifiedName> names) {
    String shown = names.stream().limit(LISTED).map(QualifiedName::quoted).collect(Collectors.joining(", "));
    return names.size() > LISTED ? shown + " and " + (names.size() - LISTED) + " more" : shown;
  }
}
