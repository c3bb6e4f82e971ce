package io.pgtrail.reconciler.sourcedatabase;

import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupResult;
import io.pgtrail.postgres.preflight.PreflightReport;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.reconciler.support.Conditions;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The state one reconcile of a SourceDatabase builds up as its steps run. */
final class SourceRun implements AutoCloseable {
  /** An Event to record once the status is computed. */
  record Note(Reason reason, String message) {}

  final SourceDatabase source;
  final Conditions conditions;
  /** The TrackingPolicies the event source maps to this source (some may point elsewhere by now). */
  final Collection<TrackingPolicy> policies;
  final SourceDatabaseStatus status = new SourceDatabaseStatus();

  Provider provider;
  String publication;
  String slot;
  /** The role the operator creates with credentials.mode managedRole; null with provided credentials. */
  String managedRoleName;
  TrackingUnion tracking;
  ConnectionSettings admin;
  WorkerResources.Endpoint workerSource;
  WorkerResources.Endpoint destination;
  /** The operator's own connection to the destination (it reads the worker's progress there). */
  ConnectionSettings destinationSettings;
  Connection connection;
  PreflightReport preflight;
  /** The slot as observed in this run (null: not read, or it does not exist). */
  ReplicationSlots.SlotStatus observedSlot;
  SetupResult setup;
  /** Normal events to record after the status is computed (drift repair, updates). */
  final List<Note> notes = new ArrayList<>();
  /** Warning events: e.g. tables setup left out of tracking so their writes keep working. */
  final List<Note> warnings = new ArrayList<>();
  boolean managedPasswordGenerated;
  /** {@code user@jumphost:port -> target:port} when the operator connects through an SSH tunnel. */
  String tunnel;
  /** The jump host as the worker reaches it (null without spec.sshTunnel). */
  WorkerResources.Tunnel workerTunnel;
  /** The step that stopped the chain, or null when every step ran. */
  Step stoppedBy;

  SourceRun(SourceDatabase source, Conditions conditions, Collection<TrackingPolicy> policies) {
    this.source = source;
    this.conditions = conditions;
    this.policies = policies;
  }

  String namespace() {
    return source.getMetadata().getNamespace();
  }

  String name() {
    return source.getMetadata().getName();
  }

  @Override
  public void close() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // closing a connection that already failed: nothing left to release
      }
      connection = null;
    }
  }
}
