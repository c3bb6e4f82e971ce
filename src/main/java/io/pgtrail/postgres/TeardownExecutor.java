package io.pgtrail.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Undoes what setup did for one source, and only what the ownership marker proves pgtrail did for
 * that owner. DDL runs in one transaction; the slot is dropped after it commits.
 */
public final class TeardownExecutor {
  private final Connection connection;
  private final TeardownRequest request;
  private final StatementRunner runner;
  private final List<String> skipped = new ArrayList<>();

  private TeardownExecutor(Connection connection, TeardownRequest request) {
    this.connection = connection;
    this.request = request;
    this.runner = new StatementRunner(connection);
  }

  public static TeardownResult apply(Connection c, TeardownRequest request) throws SQLException {
    return new TeardownExecutor(c, request).apply();
  }

  private TeardownResult apply() throws SQLException {
    Optional<OwnerMarker> marker = Ownership.publicationMarker(connection, request.publication());
    boolean ours = marker.isPresent() && marker.get().ownerId().equals(request.ownerId());
    if (!ours) {
      skipped.add(marker.isPresent()
          ? "publication " + Identifiers.quote(request.publication()) + " belongs to another pgtrail source: left alone"
          : "publication " + Identifiers.quote(request.publication()) + " carries no pgtrail marker for this source: "
              + "nothing of it is provably ours, left alone");
      return new TeardownResult(runner.executed(), skipped);
    }
    OwnerMarker owned = marker.get();
    if (request.dropPublicationAndSlot() && slotInUse()) {
      skipped.add("slot " + Identifiers.quote(request.slot()) + " is still in use by a replication connection: "
          + "nothing dropped yet; stop the worker, then tear down again");
      return new TeardownResult(runner.executed(), skipped);
    }
    try {
      runner.inTransaction(() -> {
        dropNewTableTracking();
        dropContextTriggers(owned);
        if (request.dropPublicationAndSlot()) {
          restoreReplicaIdentity(owned);
          runner.run(SetupSql.dropPublication(request.publication()));
        } else {
          OwnerMarker remaining = owned.withContextTriggers(List.of(), null);
          if (!remaining.equals(owned)) {
            runner.run(SetupSql.commentOnPublication(request.publication(), remaining.toComment()));
          }
          skipped.add("publication " + Identifiers.quote(request.publication()) + " and slot "
              + Identifiers.quote(request.slot()) + " retained (reclaimPolicy retain); REPLICA IDENTITY FULL kept");
        }
      });
    } catch (SetupException e) {
      throw new SQLException(e.getMessage(), e);
    }
    if (request.dropPublicationAndSlot()) {
      dropSlot(owned);
    }
    return new TeardownResult(runner.executed(), skipped);
  }

  private void dropNewTableTracking() throws SQLException {
    ManagedNames names = ManagedNames.forPublication(request.publication());
    if (Catalog.eventTriggerExists(connection, names.eventTrigger())) {
      runner.run("DROP EVENT TRIGGER IF EXISTS " + Identifiers.quote(names.eventTrigger()));
    }
    for (String schema : Catalog.schemasWithFunction(connection, names.function())) {
      runner.run("DROP FUNCTION IF EXISTS " + Identifiers.quote(schema) + "." + Identifiers.quote(names.function()) + "()");
    }
    for (String schema : Catalog.schemasWithFunction(connection, names.procedure())) {
      runner.run("DROP PROCEDURE IF EXISTS " + Identifiers.quote(schema) + "." + Identifiers.quote(names.procedure()) + "()");
    }
  }

  private void dropContextTriggers(OwnerMarker owned) throws SQLException {
    for (QualifiedName table : owned.contextTriggers()) {
      for (String trigger : contextTriggersOn(table)) {
        runner.run(SetupSql.dropTrigger(table, trigger));
      }
    }
    String functionSchema = owned.contextFunctionSchema();
    if (functionSchema != null && Catalog.tablesWithContextTrigger(connection).isEmpty()) {
      runner.run(SetupSql.dropContextFunction(functionSchema));
    } else if (functionSchema != null) {
      skipped.add("context function kept: other tables still use it");
    }
  }

  private List<String> contextTriggersOn(QualifiedName table) throws SQLException {
    List<String> names = new ArrayList<>();
    try (PreparedStatement ps = connection.prepareStatement("SELECT t.tgname FROM pg_trigger t"
        + " JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid"
        + " JOIN pg_namespace n ON n.oid = c.relnamespace"
        + " WHERE n.nspname = ? AND c.relname = ? AND p.proname = ? AND NOT t.tgisinternal")) {
      ps.setString(1, table.schema());
      ps.setString(2, table.table());
      ps.setString(3, Catalog.CONTEXT_FUNCTION);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
        }
      }
    }
    return names;
  }

  private void restoreReplicaIdentity(OwnerMarker owned) throws SQLException {
    List<Catalog.TableFacts> tables = Catalog.userTables(connection);
    for (Catalog.TableFacts table : tables) {
      if (owned.replicaIdentityFull().contains(table.name()) && table.replicaIdentity() == 'f') {
        runner.run(SetupSql.replicaIdentityDefault(table.name()));
      }
    }
  }

  private boolean slotInUse() throws SQLException {
    return ReplicationSlots.read(connection, request.slot()).map(ReplicationSlots.SlotStatus::active).orElse(false);
  }

  private void dropSlot(OwnerMarker owned) throws SQLException {
    if (!request.slot().equals(owned.slot())) {
      skipped.add("slot " + Identifiers.quote(request.slot()) + " is not the one recorded with the publication: left alone");
      return;
    }
    Optional<ReplicationSlots.SlotStatus> slot = ReplicationSlots.read(connection, request.slot());
    if (slot.isEmpty()) {
      return;
    }
    runner.run(SetupSql.dropSlot(request.slot()));
  }
}
