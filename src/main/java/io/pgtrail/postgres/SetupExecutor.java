package io.pgtrail.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.postgresql.PGConnection;

/**
 * Brings a database to the state a {@link SetupRequest} describes, checking the catalog before each
 * step so that a second run executes nothing. All DDL runs in one transaction (no partial damage);
 * the slot is created after it commits, because a slot needs the publication to exist first.
 */
public final class SetupExecutor {
  private final Connection connection;
  private final SetupRequest request;
  private final StatementRunner runner;

  private Catalog.ServerFacts server;
  private ScopeResolution scope;
  private Optional<Catalog.PublicationFacts> publication;
  private Optional<OwnerMarker> marker;
  private String routineSchema;

  private SetupExecutor(Connection connection, SetupRequest request) {
    this.connection = connection;
    this.request = request;
    this.runner = new StatementRunner(connection);
  }

  public static SetupResult apply(Connection c, SetupRequest request) throws SQLException, SetupException {
    return new SetupExecutor(c, request).apply();
  }

  private SetupResult apply() throws SQLException, SetupException {
    observe();
    refuseWhatIsNotOurs();
    runner.inTransaction(() -> {
      ensureManagedRole();
      String contextFunctionSchema = ensureContextFunction();
      ensurePublication();
      List<QualifiedName> identityChanged = ensureReplicaIdentityFull();
      List<QualifiedName> triggersAdded = ensureContextTriggers(contextFunctionSchema);
      ensureNewTableTracking(contextFunctionSchema);
      ensureOwnerMarker(identityChanged, triggersAdded, contextFunctionSchema);
    });
    ensureSlot();
    return new SetupResult(runner.executed(), scope.tableNames());
  }

  /** Sets the managed role's password (client-side SCRAM hashing: the server never sees it in clear). */
  public static void setManagedRolePassword(Connection c, ManagedRole role) throws SQLException {
    c.unwrap(PGConnection.class).alterUserPassword(role.name(), role.password().toCharArray(), "scram-sha-256");
  }

  // ---- observe ------------------------------------------------------------------------------

  private void observe() throws SQLException, SetupException {
    server = Catalog.server(connection);
    if (server.major() < Preflight.MIN_SERVER_MAJOR) {
      throw new SetupException(CheckId.SERVER_VERSION.reason(),
          "PostgreSQL " + server.version() + " is too old: pgtrail needs " + Preflight.MIN_SERVER_MAJOR + " or newer");
    }
    scope = ScopeResolution.resolve(connection, request.scope());
    if (!scope.valid()) {
      throw new SetupException(CheckId.TRACKED_TABLES.reason(), "tracking scope names what does not exist: "
          + (scope.missingSchemas().isEmpty() ? "" : "schemas " + scope.missingSchemas() + " ")
          + (scope.missingTables().isEmpty() ? "" : "tables " + scope.missingTables()));
    }
    publication = Catalog.publication(connection, request.publication(), server.major());
    marker = publication.flatMap(p -> OwnerMarker.parse(p.comment()));
    routineSchema = chooseRoutineSchema();
  }

  /** Functions and procedures go to public when it exists, else to the first tracked schema. */
  private String chooseRoutineSchema() throws SQLException {
    Set<String> schemas = Catalog.schemas(connection);
    if (schemas.contains(TrackingScope.DEFAULT_SCHEMA)) {
      return TrackingScope.DEFAULT_SCHEMA;
    }
    return request.scope().schemasReferenced().stream().filter(schemas::contains).findFirst()
        .orElse(TrackingScope.DEFAULT_SCHEMA);
  }

  private void refuseWhatIsNotOurs() throws SQLException, SetupException {
    boolean ours = marker.isPresent() && marker.get().ownerId().equals(request.ownerId());
    if (publication.isPresent() && !ours) {
      throw new SetupException("Conflict", "publication " + Identifiers.quote(request.publication())
          + (marker.isPresent() ? " is managed by another pgtrail source" : " exists and was not created by pgtrail")
          + ": choose another publication name, or drop it if nothing uses it");
    }
    Optional<ReplicationSlots.SlotStatus> slot = ReplicationSlots.read(connection, request.slot());
    boolean slotOurs = ours && request.slot().equals(marker.get().slot())
        || publication.isEmpty() && request.adoptExistingSlot();
    if (slot.isPresent() && !slotOurs) {
      throw new SetupException("Conflict", "replication slot " + Identifiers.quote(request.slot())
          + " exists and was not created for this source: choose another slot name, or drop it if nothing uses it");
    }
  }

  // ---- steps --------------------------------------------------------------------------------

  private void ensureManagedRole() throws SQLException, SetupException {
    ManagedRole role = request.managedRole();
    if (role == null) {
      return;
    }
    if (!request.provider().canCreateReplicationRole()) {
      throw new SetupException("NotSupported", request.provider().displayName()
          + " does not allow new roles with REPLICATION: use credentials.mode provided with the platform's user");
    }
    if (!Catalog.roleExists(connection, role.name())) {
      runner.run(SetupSql.createReplicationRole(role.name(), request.provider()));
      runner.run(SetupSql.grantReplication(role.name(), request.provider()));
      setManagedRolePassword(connection, role);
      runner.record("ALTER ROLE " + Identifiers.quote(role.name()) + " PASSWORD <scram-sha-256 verifier>");
    }
    for (String schema : request.scope().effectiveSchemas()) {
      if (!canReadSchema(role.name(), schema)) {
        runner.run(SetupSql.grantSchemaRead(role.name(), schema));
      }
    }
    for (QualifiedName table : scope.tableNames()) {
      if (!canRead(role.name(), table)) {
        runner.run(SetupSql.grantTableRead(role.name(), table));
      }
    }
  }

  private boolean canReadSchema(String role, String schema) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement("SELECT has_schema_privilege(?, ?, 'USAGE')"
        + " AND EXISTS (SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a"
        + "   JOIN pg_roles g ON g.oid = a.grantee"
        + "   WHERE d.defaclnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ?)"
        + "   AND d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        + "   AND d.defaclobjtype = 'r' AND g.rolname = ? AND a.privilege_type = 'SELECT')")) {
      ps.setString(1, role);
      ps.setString(2, schema);
      ps.setString(3, schema);
      ps.setString(4, role);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private boolean canRead(String role, QualifiedName table) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(
        "SELECT has_schema_privilege(?, ?, 'USAGE') AND has_table_privilege(?, ?::regclass, 'SELECT')")) {
      ps.setString(1, role);
      ps.setString(2, table.schema());
      ps.setString(3, role);
      ps.setString(4, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Returns the schema of the context function to call, creating it (in ours) when absent; null when off. */
  private String ensureContextFunction() throws SQLException {
    if (!request.contextTriggers()) {
      return null;
    }
    Set<String> existing = Catalog.schemasWithFunction(connection, Catalog.CONTEXT_FUNCTION);
    if (marker.isPresent() && marker.get().contextFunctionSchema() != null
        && existing.contains(marker.get().contextFunctionSchema())) {
      return marker.get().contextFunctionSchema();
    }
    if (!existing.isEmpty()) {
      // Bemi's own migration installed it: use theirs, so nothing is doubled.
      return existing.iterator().next();
    }
    runner.run(SetupSql.createContextFunction(routineSchema));
    return routineSchema;
  }

  private void ensurePublication() throws SQLException {
    PublicationShape shape = PublicationShape.forScope(request.scope(), scope.tableNames(), server.major());
    if (publication.isEmpty()) {
      runner.run(SetupSql.createPublication(request.publication(), shape));
    } else if (!shape.matches(publication.get())) {
      runner.run(SetupSql.convergePublication(request.publication(), publication.get().allTables(), shape));
    }
    if (server.major() >= GeneratedColumns.FIRST_MAJOR
        && !GeneratedColumns.publishesStored(connection, request.publication())) {
      runner.run(GeneratedColumns.publishStored(request.publication()));
    }
  }

  private List<QualifiedName> ensureReplicaIdentityFull() throws SQLException {
    List<QualifiedName> changed = new ArrayList<>();
    Set<QualifiedName> withVirtualColumns = GeneratedColumns.tablesWithVirtualColumns(connection);
    for (Catalog.TableFacts table : scope.tables()) {
      if (withVirtualColumns.contains(table.name())) {
        keepOwnReplicaIdentity(table);
      } else if (table.replicaIdentity() != 'f') {
        runner.run(SetupSql.replicaIdentityFull(table.name()));
        changed.add(table.name());
      }
    }
    return changed;
  }

  /**
   * A table with virtual generated columns (PostgreSQL 18) must not have REPLICA IDENTITY FULL: 18 would reject
   * every UPDATE and DELETE on it. FULL that pgtrail set before such a column was added goes back to DEFAULT
   * where a primary key makes that an identity.
   */
  private void keepOwnReplicaIdentity(Catalog.TableFacts table) throws SQLException {
    boolean ours = marker.isPresent() && marker.get().replicaIdentityFull().contains(table.name());
    if (table.replicaIdentity() == 'f' && ours && table.hasPrimaryKey()) {
      runner.run(SetupSql.replicaIdentityDefault(table.name()));
    }
  }

  private List<QualifiedName> ensureContextTriggers(String functionSchema) throws SQLException {
    if (functionSchema == null) {
      return List.of();
    }
    Set<QualifiedName> withTrigger = Catalog.tablesWithContextTrigger(connection);
    List<QualifiedName> added = new ArrayList<>();
    for (QualifiedName table : scope.tableNames()) {
      if (!withTrigger.contains(table)) {
        runner.run(SetupSql.createContextTrigger(table, functionSchema));
        added.add(table);
      }
    }
    return added;
  }

  private void ensureNewTableTracking(String contextFunctionSchema) throws SQLException {
    ManagedNames names = ManagedNames.forPublication(request.publication());
    boolean wanted = request.trackNewTables() && request.scope().coversNewTables();
    if (!wanted) {
      if (Catalog.eventTriggerExists(connection, names.eventTrigger())) {
        runner.run(SetupSql.dropNewTableTracking(names, routineSchema));
      }
      return;
    }
    PublicationShape shape = PublicationShape.forScope(request.scope(), scope.tableNames(), server.major());
    boolean addToPublication = !shape.allTables() && shape.schemas().isEmpty();
    SetupSql.NewTableRules rules =
        new SetupSql.NewTableRules(request.publication(), request.scope(), addToPublication, contextFunctionSchema);
    if (!sourceMatches(names.procedure(), SetupSql.newTableProcedureBody(rules))) {
      runner.run(SetupSql.createNewTableProcedure(names, routineSchema, rules));
    }
    if (!sourceMatches(names.function(), SetupSql.newTableFunctionBody(names, routineSchema))) {
      runner.run(SetupSql.createNewTableFunction(names, routineSchema));
    }
    if (!Catalog.eventTriggerExists(connection, names.eventTrigger())) {
      runner.run(SetupSql.createEventTrigger(names, routineSchema));
    }
  }

  private boolean sourceMatches(String routine, String body) throws SQLException {
    return Catalog.routineSource(connection, routineSchema, routine)
        .map(src -> src.strip().equals(body.strip()))
        .orElse(false);
  }

  private void ensureOwnerMarker(List<QualifiedName> identityChanged, List<QualifiedName> triggersAdded,
      String contextFunctionSchema) throws SQLException {
    OwnerMarker previous = marker.orElse(null);
    TreeSet<QualifiedName> identity = new TreeSet<>(identityChanged);
    TreeSet<QualifiedName> triggers = new TreeSet<>(triggersAdded);
    String ownedFunctionSchema = null;
    if (previous != null) {
      identity.addAll(previous.replicaIdentityFull());
      triggers.addAll(previous.contextTriggers());
      ownedFunctionSchema = previous.contextFunctionSchema();
    }
    if (ownedFunctionSchema == null && contextFunctionSchema != null
        && runner.executed().contains(SetupSql.createContextFunction(contextFunctionSchema))) {
      ownedFunctionSchema = contextFunctionSchema;
    }
    OwnerMarker next = new OwnerMarker(request.ownerId(), request.slot(), List.copyOf(identity), List.copyOf(triggers),
        ownedFunctionSchema);
    if (!next.equals(previous) || publicationWasRecreated()) {
      runner.run(SetupSql.commentOnPublication(request.publication(), next.toComment()));
    }
  }

  private boolean publicationWasRecreated() {
    String drop = SetupSql.dropPublication(request.publication());
    return runner.executed().contains(drop);
  }

  private void ensureSlot() throws SQLException {
    if (ReplicationSlots.read(connection, request.slot()).isEmpty()) {
      runner.run(SetupSql.createSlot(request.slot(), request.failoverSlot(), server.major()));
    }
  }
}
