package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CONNECTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.PUBLICATION_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.REPLICATION_PERMITTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WAL_LEVEL_LOGICAL;

import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.ManagedRole;
import io.pgtrail.postgres.plan.OwnerMarker;
import io.pgtrail.postgres.plan.Ownership;
import io.pgtrail.postgres.plan.SetupException;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.preflight.CheckId;
import io.pgtrail.postgres.preflight.CheckResult;
import io.pgtrail.postgres.preflight.CheckStatus;
import io.pgtrail.postgres.preflight.Preflight;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.reconciler.support.Conditions;
import java.sql.SQLException;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The steps that talk to the source database: connect, preflight (Connected, WalLevelLogical,
 * ReplicationPermitted), ownership of the publication, and setup of publication, triggers, role and slot.
 */
final class PostgresSteps {
  static final int MAX_LISTED_TABLES = 500;
  /** Checks whose failure means "the database is not prepared": ReplicationPermitted reports them. */
  private static final Set<CheckId> RIGHTS_CHECKS = EnumSet.complementOf(
      EnumSet.of(CheckId.WAL_LEVEL, CheckId.EXISTING_SLOT, CheckId.EXISTING_PUBLICATION));

  private final SourceCredentials credentials;

  PostgresSteps(SourceCredentials credentials) {
    this.credentials = credentials;
  }

  boolean connect(SourceRun run) {
    try {
      run.connection = PgConnections.open(run.admin);
    } catch (PgConnectException e) {
      run.conditions.setFalse(CONNECTED, e.reason().camelCase(), e.getMessage());
      return false;
    }
    run.conditions.setTrue(CONNECTED, Reason.CONNECTED.camelCase(), "connected to " + run.admin.redacted()
        + (run.tunnel == null ? "" : " through " + run.tunnel));
    return true;
  }

  boolean preflight(SourceRun run) throws SQLException {
    run.preflight = Preflight.run(run.connection, run.admin, setupRequest(run, null));
    run.status.serverVersion = run.preflight.serverVersion();

    Optional<CheckResult> wal = run.preflight.check(CheckId.WAL_LEVEL);
    if (wal.isPresent() && wal.get().status() == CheckStatus.FAILED) {
      run.conditions.setFalse(WAL_LEVEL_LOGICAL, CheckId.WAL_LEVEL.reason(), describe(wal.get()));
    } else {
      run.conditions.setTrue(WAL_LEVEL_LOGICAL, Reason.WAL_LEVEL_LOGICAL.camelCase(), "wal_level is logical");
    }
    List<CheckResult> rightsFailed = run.preflight.failed().stream().filter(c -> RIGHTS_CHECKS.contains(c.id())).toList();
    if (!rightsFailed.isEmpty()) {
      run.conditions.setFalse(REPLICATION_PERMITTED, rightsFailed.get(0).id().reason(),
          rightsFailed.stream().map(PostgresSteps::describe).collect(Collectors.joining(" | ")));
    } else {
      List<CheckResult> warnings = run.preflight.checks().stream()
          .filter(c -> c.status() == CheckStatus.WARNING).toList();
      run.conditions.setTrue(REPLICATION_PERMITTED, Reason.PREFLIGHT_PASSED.camelCase(), warnings.isEmpty()
          ? "the role may replicate and the server has room for a slot and a sender"
          : "preflight passed with warnings: " + warnings.stream().map(PostgresSteps::describe)
              .collect(Collectors.joining(" | ")));
    }
    List<CheckResult> conflicts = run.preflight.failed().stream()
        .filter(c -> c.id() == CheckId.EXISTING_SLOT || c.id() == CheckId.EXISTING_PUBLICATION).toList();
    if (!conflicts.isEmpty()) {
      run.conditions.setFalse(PUBLICATION_READY, Reason.CONFLICT.camelCase(),
          conflicts.stream().map(PostgresSteps::describe).collect(Collectors.joining(" | ")));
    }
    return run.preflight.failed().isEmpty();
  }

  static String describe(CheckResult check) {
    String observed = check.observed() == null || check.observed().isBlank() ? "" : check.observed();
    String fix = check.fixIt() == null || check.fixIt().isBlank() ? "" : check.fixIt();
    return observed.isEmpty() ? fix : fix.isEmpty() ? observed : observed + ". " + fix;
  }

  SetupRequest setupRequest(SourceRun run, ManagedRole role) {
    // a slot this source already reported in its status is its own, even if its publication was dropped by hand
    boolean slotInStatus = run.source.getStatus() != null && run.slot.equals(run.source.getStatus().slotName);
    return new SetupRequest(run.publication, run.slot, run.provider, run.tracking.scope(),
        run.tracking.trackNewTables(), run.tracking.contextTriggers(), run.source.getMetadata().getUid(), role,
        slotInStatus).withFailoverSlot(!Boolean.FALSE.equals(run.source.getSpec().failoverSlot));
  }


  /** Nothing is created while another owner's marker sits on the publication. */
  boolean checkOwnership(SourceRun run) throws SQLException {
    Optional<OwnerMarker> marker = Ownership.publicationMarker(run.connection, run.publication);
    String uid = run.source.getMetadata().getUid();
    if (marker.isPresent() && !uid.equals(marker.get().ownerId())) {
      run.conditions.setFalse(PUBLICATION_READY, Reason.CONFLICT.camelCase(), "publication " + run.publication
          + " in database " + run.admin.database() + " belongs to another SourceDatabase (owner "
          + marker.get().ownerId() + "): choose another publicationName and slotName");
      return false;
    }
    if (run.tracking.policies().isEmpty()) {
      run.conditions.setFalse(PUBLICATION_READY, Reason.NO_TRACKING_POLICY.camelCase(),
          "no TrackingPolicy points at this source: create one with spec.sourceRef.name: " + run.name());
      return false;
    }
    return true;
  }

  boolean ensurePublicationAndSlot(SourceRun run) throws SQLException {
    ManagedRole role = null;
    if (run.managedRoleName != null) {
      role = credentials.ensureManagedRoleSecret(run);
    }
    Optional<String> lostSlotPosition = reportedSlotNowMissing(run);
    try {
      run.setup = SetupExecutor.apply(run.connection, setupRequest(run, role));
    } catch (SetupException e) {
      run.conditions.setFalse(PUBLICATION_READY, e.reason(), e.getMessage());
      return false;
    }
    if (role != null && run.managedPasswordGenerated) {
      // a regenerated Secret (deleted by hand) must not leave the role with the old password
      SetupExecutor.setManagedRolePassword(run.connection, role);
    }
    if (role != null) {
      run.workerSource = new WorkerResources.Endpoint(run.workerSource.host(), run.workerSource.port(),
          run.workerSource.database(), role.name(), run.workerSource.sslMode(), role.password(),
          run.workerSource.caCertificate());
    }
    lostSlotPosition.ifPresent(position -> run.warnings.add(new SourceRun.Note(Reason.SLOT_RECREATED,
        "replication slot " + run.slot + " (last confirmed at " + position + ") was missing, as after a failover to a"
            + " standby that does not synchronize slots, and was created again at the current position: changes in"
            + " between were not captured and the worker records that gap in the trail. To keep the slot across"
            + " failovers see docs/high-availability.md")));
    List<String> tables = run.setup.trackedTables().stream().map(QualifiedName::toString).sorted().toList();
    run.status.trackedTableCount = tables.size();
    run.status.trackedTables = tables.size() > MAX_LISTED_TABLES ? tables.subList(0, MAX_LISTED_TABLES) : tables;
    run.status.publicationName = run.publication;
    run.status.slotName = run.slot;
    run.status.replicationUser = run.workerSource.user();
    String leftOut = String.join(" | ", run.setup.warnings());
    String message = "publication " + run.publication + " tracks " + tables.size() + " table(s)"
        + (leftOut.isEmpty() ? "" : "; not tracked or incomplete: " + leftOut);
    String before = run.source.getStatus() == null ? null : Conditions
        .find(run.source.getStatus().conditions, PUBLICATION_READY).map(c -> c.getMessage()).orElse(null);
    run.conditions.setTrue(PUBLICATION_READY, Reason.PUBLICATION_READY.camelCase(), message);
    if (!leftOut.isEmpty() && !message.equals(before)) {
      run.warnings.add(new SourceRun.Note(Reason.TABLES_LEFT_OUT, leftOut));
    }
    if (!run.setup.executedSteps().isEmpty()) {
      noteSetupChanges(run);
    }
    return true;
  }

  /** The last confirmed position of a slot this source reported before and that is gone now. */
  private static Optional<String> reportedSlotNowMissing(SourceRun run) throws SQLException {
    SourceDatabaseStatus before = run.source.getStatus();
    if (before == null || before.slot == null || before.slot.confirmedFlushLsn == null
        || !run.slot.equals(before.slotName) || ReplicationSlots.read(run.connection, run.slot).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(before.slot.confirmedFlushLsn);
  }

  private void noteSetupChanges(SourceRun run) {
    SourceDatabaseStatus before = run.source.getStatus();
    boolean wasReady = before != null
        && Conditions.isTrue(before.conditions, PUBLICATION_READY);
    boolean sameGeneration = before != null && run.source.getMetadata().getGeneration().equals(before.observedGeneration);
    boolean samePolicies = before != null && sameApplied(before.appliedPolicies, run.status.appliedPolicies);
    String steps = String.join("; ", run.setup.executedSteps());
    if (wasReady && sameGeneration && samePolicies) {
      run.notes.add(new SourceRun.Note(Reason.DRIFT_REPAIRED, "put back what was changed by hand: " + steps));
    } else if (wasReady) {
      run.notes.add(new SourceRun.Note(Reason.PUBLICATION_UPDATED, steps));
    }
  }

  private static boolean sameApplied(List<SourceDatabaseStatus.AppliedPolicy> a, List<SourceDatabaseStatus.AppliedPolicy> b) {
    if (a == null || b == null || a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).name.equals(b.get(i).name) || !Objects.equals(a.get(i).generation, b.get(i).generation)) {
        return false;
      }
    }
    return true;
  }

}
