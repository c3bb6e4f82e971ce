package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Catalog;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.ScopeResolution;
import io.pgtrail.postgres.slots.ReplicationSlots;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

/**
 * Runs the setup plan ({@link SetupPlan#setup}), the same statements {@code pgtrail sql setup} prints.
 * Every step checks the catalog before it acts, so a second run changes nothing. All steps but the slot
 * run in one transaction (no partial damage); the slot is created after it commits, because a slot needs
 * the publication to exist first.
 */
public final class SetupExecutor {
  private final Connection connection;
  private final SetupRequest request;
  private final StatementRunner runner;
  private final List<String> warnings = new ArrayList<>();

  private SetupExecutor(Connection connection, SetupRequest request) {
    this.connection = connection;
    this.request = request;
    this.runner = new StatementRunner(connection);
  }

  public static SetupResult apply(Connection c, SetupRequest request) throws SQLException, SetupException {
    return new SetupExecutor(c, request).apply();
  }

  private SetupResult apply() throws SQLException, SetupException {
    Catalog.ServerFacts server = refuseWhatCannotWork();
    ManagedRole role = request.managedRole();
    List<SetupPlan.Step> steps = SetupPlan.setup(request, role == null ? null : role.name());
    runner.inTransaction(() -> {
      for (SetupPlan.Step step : steps) {
        if (!step.afterCommit()) {
          run(step);
        }
      }
      if (role != null && runner.executed().contains("CREATE ROLE " + Identifiers.quote(role.name()))) {
        setManagedRolePassword(connection, role);
        runner.record("ALTER ROLE " + Identifiers.quote(role.name()) + " PASSWORD <scram-sha-256 verifier>");
      }
    });
    for (SetupPlan.Step step : steps) {
      if (step.afterCommit()) {
        run(step);
      }
    }
    List<QualifiedName> tracked = Catalog.publication(connection, request.publication(), server.major())
        .map(p -> List.copyOf(p.memberTables())).orElse(List.of());
    return new SetupResult(runner.executed(), tracked, warnings);
  }

  private void run(SetupPlan.Step step) throws SQLException, SetupException {
    try {
      StatementRunner.Outcome outcome = runner.runStep(step.sql());
      warnings.addAll(outcome.warnings());
      if (outcome.rows() > 0 && step.sql().startsWith(ReplicationSlots.createSlot(request.slot()).inline())) {
        runner.record(ReplicationSlots.createSlot(request.slot()).inline());
      }
    } catch (PSQLException e) {
      if (e.getServerErrorMessage() != null && "Conflict".equals(e.getServerErrorMessage().getHint())) {
        throw new SetupException("Conflict", e.getServerErrorMessage().getMessage());
      }
      throw e;
    }
  }

  /** Sets the managed role's password (client-side SCRAM hashing: the server never sees it in clear). */
  public static void setManagedRolePassword(Connection c, ManagedRole role) throws SQLException {
    c.unwrap(PGConnection.class).alterUserPassword(role.name(), role.password().toCharArray(), "scram-sha-256");
  }

  /** What the plan cannot decide for itself: a server too old, a scope naming what does not exist, a provider rule. */
  private Catalog.ServerFacts refuseWhatCannotWork() throws SQLException, SetupException {
    Catalog.ServerFacts server = Catalog.server(connection);
    if (server.major() < SetupPlan.MIN_SERVER_MAJOR) {
      throw new SetupException(SetupException.UNSUPPORTED_VERSION,
          "PostgreSQL " + server.version() + " is too old: pgtrail needs " + SetupPlan.MIN_SERVER_MAJOR + " or newer");
    }
    ScopeResolution scope = ScopeResolution.resolve(connection, request.scope());
    if (!scope.valid()) {
      throw new SetupException(SetupException.TRACKED_TABLES_INVALID, "tracking scope names what does not exist: "
          + (scope.missingSchemas().isEmpty() ? "" : "schemas " + scope.missingSchemas() + " ")
          + (scope.missingTables().isEmpty() ? "" : "tables " + scope.missingTables()));
    }
    if (request.managedRole() != null && !request.provider().canCreateReplicationRole()) {
      throw new SetupException("NotSupported", request.provider().displayName()
          + " does not allow new roles with REPLICATION: use credentials.mode provided with the platform's user");
    }
    return server;
  }
}
