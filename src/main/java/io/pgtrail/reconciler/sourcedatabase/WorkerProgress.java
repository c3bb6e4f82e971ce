package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_STREAMING;

import io.pgtrail.api.v1alpha1.SourceDatabaseStatus.WorkerProgressFacts;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.slots.ReplicationSlots.SlotStatus;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Whether the worker streams and acknowledges, from two sources the operator reads without a network
 * path into pods: the {@code pgtrail_progress} row the worker keeps in the destination (state, last
 * error, set-aside changes, gap records, heartbeat), and the slot's {@code confirmed_flush_lsn}, which
 * must move while WAL is pending. Sets {@code WorkerStreaming}.
 */
final class WorkerProgress {
  /** A progress row older than this means the worker stopped reporting (it writes one at least every 10 s). */
  static final Duration REPORT_MAX_AGE = Duration.ofSeconds(60);
  private static final String TABLE_MISSING = "42P01";

  /** The slot position last seen per source and when it last moved. */
  private record Movement(String lsn, Instant since) {}

  /** One pgtrail_progress row, with its ages measured by the destination's own clock. */
  record Report(String state, String stateReason, String lastErrorClass, String lastErrorMessage, String lastErrorAt,
      String acknowledgedAt, String updatedAt, long setAside, long gaps, long consecutiveFailures,
      double secondsSinceUpdate) {}

  private final Clock clock;
  private final Duration stallTimeout;
  private final Map<String, Movement> movements = new ConcurrentHashMap<>();

  WorkerProgress(Clock clock, Duration stallTimeout) {
    this.clock = clock;
    this.stallTimeout = stallTimeout;
  }

  void forget(String uid) {
    movements.remove(uid);
  }

  void observe(SourceRun run) {
    Optional<Report> report;
    try {
      report = read(run.destinationSettings, run.slot);
    } catch (PgConnectException e) {
      run.conditions.setUnknown(WORKER_STREAMING, Reason.WORKER_NOT_REPORTING.camelCase(),
          "cannot read the worker's progress from the destination: " + e.getMessage());
      return;
    } catch (SQLException e) {
      run.conditions.setUnknown(WORKER_STREAMING, Reason.WORKER_NOT_REPORTING.camelCase(),
          "cannot read pgtrail_progress in the destination: " + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")");
      return;
    }
    Optional<Duration> stalled = stalledFor(run.source.getMetadata().getUid(), run.observedSlot);
    report.ifPresent(r -> run.status.worker = facts(r));
    String slotNote = stalled.map(d -> "the slot's confirmed position has not moved for " + d.toSeconds()
        + " s while " + SlotObservation.humanBytes(run.observedSlot.pendingWalBytes()) + " of WAL is pending").orElse(null);
    if (report.isEmpty()) {
      if (slotNote != null) {
        run.conditions.setFalse(WORKER_STREAMING, Reason.WORKER_NOT_ACKNOWLEDGING.camelCase(), slotNote
            + "; the worker reports no progress (no row for slot " + run.slot + " in pgtrail_progress): check"
            + " kubectl logs deploy/" + WorkerResources.deploymentName(run.source));
      } else if (run.observedSlot != null && run.observedSlot.active()) {
        run.conditions.setTrue(WORKER_STREAMING, Reason.WORKER_STREAMING.camelCase(), "slot " + run.slot
            + " is streaming and its confirmed position keeps up; the worker reports no details yet");
      } else {
        run.conditions.setUnknown(WORKER_STREAMING, Reason.WORKER_NOT_REPORTING.camelCase(), "no progress report"
            + " from the worker yet (no row for slot " + run.slot + " in the destination's pgtrail_progress)");
      }
      return;
    }
    Report r = report.get();
    String counts = "; set aside " + r.setAside() + " change(s), " + r.gaps() + " gap record(s)";
    String error = r.lastErrorClass() == null ? "" : "; last error " + r.lastErrorClass()
        + (r.lastErrorMessage() == null ? "" : ": " + r.lastErrorMessage()) + " at " + r.lastErrorAt();
    if (r.secondsSinceUpdate() > REPORT_MAX_AGE.toSeconds()) {
      run.conditions.setFalse(WORKER_STREAMING, Reason.WORKER_NOT_REPORTING.camelCase(), "the worker last reported "
          + Math.round(r.secondsSinceUpdate()) + " s ago (state " + r.state() + "): it is not running or cannot"
          + " reach the destination; check kubectl logs deploy/" + WorkerResources.deploymentName(run.source) + error);
      return;
    }
    switch (r.state()) {
      case "streaming" -> {
        if (slotNote != null) {
          run.conditions.setFalse(WORKER_STREAMING, Reason.WORKER_NOT_ACKNOWLEDGING.camelCase(), "the worker reports"
              + " streaming but " + slotNote + counts + error);
        } else {
          run.conditions.setTrue(WORKER_STREAMING, Reason.WORKER_STREAMING.camelCase(), "streaming; acknowledged at "
              + r.acknowledgedAt() + counts + error);
        }
      }
      case "starting" -> run.conditions.setUnknown(WORKER_STREAMING, Reason.WORKER_STARTING.camelCase(),
          "the worker is starting" + counts + error);
      case "retrying" -> run.conditions.setFalse(WORKER_STREAMING, reason(r, Reason.WORKER_RETRYING),
          "the worker retries after " + r.consecutiveFailures() + " consecutive failure(s)" + counts + error);
      case "stalled" -> run.conditions.setFalse(WORKER_STREAMING, reason(r, Reason.WORKER_STALLED),
          "the worker is stalled" + counts + error);
      default -> run.conditions.setFalse(WORKER_STREAMING, reason(r, Reason.WORKER_STOPPED),
          "the worker stopped (state " + r.state() + ")" + counts + error);
    }
  }

  private static String reason(Report r, Reason fallback) {
    return r.stateReason() != null && r.stateReason().matches("[A-Z][A-Za-z0-9]*") ? r.stateReason()
        : fallback.camelCase();
  }

  /** How long the slot's confirmed position has stood still with WAL pending, when longer than the stall timeout. */
  private Optional<Duration> stalledFor(String uid, SlotStatus slot) {
    if (slot == null) {
      movements.remove(uid);
      return Optional.empty();
    }
    Instant now = clock.instant();
    String lsn = String.valueOf(slot.confirmedFlushLsn());
    Movement last = movements.get(uid);
    if (last == null || !last.lsn().equals(lsn) || slot.pendingWalBytes() <= 0) {
      movements.put(uid, new Movement(lsn, now));
      return Optional.empty();
    }
    Duration still = Duration.between(last.since(), now);
    return still.compareTo(stallTimeout) >= 0 ? Optional.of(still) : Optional.empty();
  }

  static Optional<Report> read(ConnectionSettings destination, String slot) throws PgConnectException, SQLException {
    try (Connection c = PgConnections.open(destination); PreparedStatement ps = c.prepareStatement(
        "SELECT state, state_reason, last_error_class, last_error_message, last_error_at::text, acknowledged_at::text,"
            + " updated_at::text, set_aside_changes, gap_records, consecutive_failures,"
            + " EXTRACT(EPOCH FROM now() - updated_at)::float8"
            + " FROM pgtrail_progress WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new Report(rs.getString(1), rs.getString(2), rs.getString(3), shorten(rs.getString(4)),
            rs.getString(5), rs.getString(6), rs.getString(7), rs.getLong(8), rs.getLong(9), rs.getLong(10),
            rs.getDouble(11)));
      }
    } catch (SQLException e) {
      if (TABLE_MISSING.equals(e.getSQLState())) {
        return Optional.empty(); // the worker has not created its tables yet
      }
      throw e;
    }
  }

  private static String shorten(String s) {
    return s == null || s.length() <= 300 ? s : s.substring(0, 300) + "…";
  }

  private static WorkerProgressFacts facts(Report r) {
    WorkerProgressFacts f = new WorkerProgressFacts();
    f.state = r.state();
    f.stateReason = r.stateReason();
    f.acknowledgedAt = r.acknowledgedAt();
    f.reportedAt = r.updatedAt();
    f.lastError = r.lastErrorClass() == null ? null
        : r.lastErrorClass() + (r.lastErrorMessage() == null ? "" : ": " + r.lastErrorMessage());
    f.lastErrorAt = r.lastErrorAt();
    f.setAsideChanges = r.setAside();
    f.gapRecords = r.gaps();
    return f;
  }
}
