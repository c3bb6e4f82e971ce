package io.pgtrail.reconciler.support;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.OwnerMarker;
import io.pgtrail.postgres.Ownership;
import io.pgtrail.postgres.PgConnectException;
import io.pgtrail.postgres.PgConnections;
import io.pgtrail.postgres.Preflight;
import io.pgtrail.postgres.PreflightReport;
import io.pgtrail.postgres.ReplicationSlots;
import io.pgtrail.postgres.SetupException;
import io.pgtrail.postgres.SetupExecutor;
import io.pgtrail.postgres.SetupRequest;
import io.pgtrail.postgres.SetupResult;
import io.pgtrail.postgres.TeardownExecutor;
import io.pgtrail.postgres.TeardownRequest;
import io.pgtrail.postgres.TeardownResult;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/** The only door from the reconcilers to the PostgreSQL engine (io.pgtrail.postgres). */
public final class PostgresEngine {
  private PostgresEngine() {}

  public static Connection connect(ConnectionSettings settings) throws PgConnectException {
    return PgConnections.open(settings);
  }

  public static PreflightReport preflight(Connection c, ConnectionSettings target, SetupRequest request)
      throws SQLException {
    return Preflight.run(c, target, request);
  }

  public static SetupResult setup(Connection c, SetupRequest request) throws SQLException, SetupException {
    return SetupExecutor.apply(c, request);
  }

  public static TeardownResult teardown(Connection c, TeardownRequest request) throws SQLException {
    return TeardownExecutor.apply(c, request);
  }

  public static void setManagedRolePassword(Connection c, io.pgtrail.postgres.ManagedRole role) throws SQLException {
    SetupExecutor.setManagedRolePassword(c, role);
  }

  public static Optional<OwnerMarker> publicationMarker(Connection c, String publication) throws SQLException {
    return Ownership.publicationMarker(c, publication);
  }

  public static Optional<ReplicationSlots.SlotStatus> slot(Connection c, String slot) throws SQLException {
    return ReplicationSlots.read(c, slot);
  }
}
