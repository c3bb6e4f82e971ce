package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_HEALTHY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_READY;

import io.fabric8.kubernetes.api.model.Quantity;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.slots.FailoverSlots;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.postgres.slots.ReplicationSlots.SlotStatus;
import java.sql.SQLException;
import java.util.Locale;
import java.util.Optional;

/** The replication slot as observed (slot facts in status, SlotHealthy) and confirmed after setup (SlotReady). */
final class SlotObservation {
  private SlotObservation() {}

  /**
   * Observe first: the slot's facts and SlotHealthy, read whenever a connection exists, whatever the
   * setup steps after it say (a failing preflight is exactly when retained WAL piles up). Never stops the chain.
   */
  static void observe(SourceRun run) {
    Optional<SlotStatus> slot;
    try {
      slot = ReplicationSlots.read(run.connection, run.slot);
    } catch (SQLException e) {
      run.conditions.setUnknown(SLOT_HEALTHY, Reason.SETUP_FAILED.camelCase(), "cannot read pg_replication_slots: "
          + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")");
      return;
    }
    run.observedSlot = slot.orElse(null);
    if (slot.isEmpty()) {
      run.status.slot = null;
      run.conditions.setUnknown(SLOT_HEALTHY, Reason.SLOT_MISSING.camelCase(), "replication slot " + run.slot
          + " does not exist (yet)");
      return;
    }
    SlotStatus s = slot.get();
    SourceDatabaseStatus.SlotFacts facts = new SourceDatabaseStatus.SlotFacts();
    facts.active = s.active();
    facts.retainedWalBytes = s.retainedWalBytes();
    facts.retainedWal = humanBytes(s.retainedWalBytes());
    facts.walStatus = s.walStatus();
    facts.safeWalSize = s.safeWalSize();
    facts.confirmedFlushLsn = s.confirmedFlushLsn();
    observeFailover(run, facts);
    run.status.slot = facts;
    Quantity limit = run.source.getSpec().maxRetainedWal;
    String worker = "check that the worker is running and keeping up (kubectl logs deploy/"
        + WorkerResources.deploymentName(run.source) + ")";
    if (facts.invalidationReason != null && !"wal_removed".equals(facts.invalidationReason)) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.SLOT_INVALIDATED.camelCase(), "PostgreSQL invalidated slot "
          + run.slot + " (" + facts.invalidationReason + "): changes after its last position cannot be read;"
          + " the worker records a gap and stops. Recreate the SourceDatabase to start a new slot"
          + ("idle_timeout".equals(facts.invalidationReason)
              ? ", and raise idle_replication_slot_timeout (or set it to 0) so a stopped worker keeps its slot" : ""));
    } else if ("lost".equals(s.walStatus())) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.SLOT_LOST.camelCase(), "the server removed WAL the slot still"
          + " needed (wal_status lost): changes were missed; recreate the SourceDatabase to start a new slot");
    } else if (limit != null && s.retainedWalBytes() > Quantity.getAmountInBytes(limit).longValue()) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.RETAINED_WAL_TOO_LARGE.camelCase(), "slot " + run.slot
          + " retains " + humanBytes(s.retainedWalBytes()) + " of WAL, above spec.maxRetainedWal " + limit
          + ": " + worker);
    } else if ("unreserved".equals(s.walStatus())) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.SLOT_AT_RISK.camelCase(), "slot " + run.slot + " retains "
          + humanBytes(s.retainedWalBytes()) + " of WAL, beyond max_wal_size (wal_status unreserved"
          + (s.safeWalSize() == null ? "" : ", " + humanBytes(Math.max(0, s.safeWalSize()))
          + " left before max_slot_wal_keep_size removes it") + "): " + worker);
    } else {
      run.conditions.setTrue(SLOT_HEALTHY, Reason.SLOT_HEALTHY.camelCase(), "retained WAL "
          + humanBytes(s.retainedWalBytes()) + (limit == null ? "" : " (limit " + limit + ")")
          + (s.walStatus() == null ? "" : ", wal_status " + s.walStatus()) + (s.active() ? ", streaming" : ""));
    }
  }

  /** After setup: the slot exists (SlotReady), and SlotHealthy reflects the slot setup may just have created. */
  static boolean confirm(SourceRun run) {
    if (run.observedSlot == null || run.setup != null && !run.setup.executedSteps().isEmpty()) {
      observe(run);
    }
    if (run.observedSlot == null) {
      run.conditions.setFalse(SLOT_READY, Reason.SLOT_MISSING.camelCase(), "replication slot " + run.slot
          + " does not exist although setup ran: it may have been dropped concurrently; pgtrail recreates it");
      return false;
    }
    run.conditions.setTrue(SLOT_READY, Reason.SLOT_READY.camelCase(), "logical slot " + run.slot + " (pgoutput) exists"
        + (run.observedSlot.active() ? " and is streaming" : ""));
    return true;
  }

  /** Failover flags and readiness (PostgreSQL 17+), and whether PostgreSQL invalidated the slot. */
  private static void observeFailover(SourceRun run, SourceDatabaseStatus.SlotFacts facts) {
    try {
      int major = run.connection.getMetaData().getDatabaseMajorVersion();
      Optional<FailoverSlots.SlotFlags> flags = FailoverSlots.flags(run.connection, run.slot);
      facts.invalidationReason = FailoverSlots.invalidation(run.connection, run.slot).orElse(null);
      facts.failover = flags.map(FailoverSlots.SlotFlags::failover).orElse(null);
      FailoverSlots.Readiness readiness = FailoverSlots.assess(major,
          !Boolean.FALSE.equals(run.source.getSpec().failoverSlot), run.slot, flags,
          FailoverSlots.standbys(run.connection));
      facts.failoverReady = readiness.ready();
      facts.failoverMessage = readiness.fixIt().isEmpty() ? readiness.observed()
          : readiness.observed() + ". " + readiness.fixIt();
    } catch (SQLException e) {
      facts.failoverMessage = "cannot read the slot's failover facts: " + e.getMessage() + " (SQLSTATE "
          + e.getSQLState() + ")";
    }
  }

  static String humanBytes(long bytes) {
    String[] units = {"", "Ki", "Mi", "Gi", "Ti"};
    double value = bytes;
    int unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? bytes + "B" : String.format(Locale.ROOT, "%.1f%s", value, units[unit]);
  }

}
