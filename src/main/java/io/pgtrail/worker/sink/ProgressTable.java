package io.pgtrail.worker.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.util.List;
import java.util.Optional;

/**
 * {@code pgtrail_progress} in the destination, next to {@code changes}: one row per replication slot with
 * the position the worker acknowledged (written in the same transaction as the batch it acknowledges),
 * its state and its failure counters. The worker reads it back at start to notice gaps; the operator
 * reads it to report the worker's state. Shape: CONTRACTS.md and docs/changes-table.md.
 */
public final class ProgressTable {
  public static final String NAME = "pgtrail_progress";

  /** What a worker left behind. {@code acknowledgedLsn} is null until its first acknowledgement. */
  public record Progress(Long acknowledgedLsn, Timestamp acknowledgedAt, Timestamp lastCommitAt, String state,
      String stateReason, Long publicationOid) {}

  /** The row's state columns as a heartbeat writes them. */
  public record Snapshot(String state, String stateReason, String lastErrorClass, String lastErrorMessage,
      Timestamp lastErrorAt, int consecutiveFailures) {}

  private ProgressTable() {}

  public static List<String> createStatements() {
    return List.of("CREATE TABLE IF NOT EXISTS " + NAME + " ("
        + " slot_name text PRIMARY KEY,"
        + " acknowledged_lsn bigint,"
        + " acknowledged_at timestamptz,"
        + " last_commit_at timestamptz,"
        + " state text NOT NULL,"
        + " state_reason text,"
        + " last_error_class text,"
        + " last_error_message text,"
        + " last_error_at timestamptz,"
        + " consecutive_failures integer NOT NULL DEFAULT 0,"
        + " fallback_changes bigint NOT NULL DEFAULT 0,"
        + " set_aside_changes bigint NOT NULL DEFAULT 0,"
        + " gap_records bigint NOT NULL DEFAULT 0,"
        + " updated_at timestamptz NOT NULL,"
        + " publication_oid bigint)",
        // a table created by an earlier version lacks the additive column
        "ALTER TABLE " + NAME + " ADD COLUMN IF NOT EXISTS publication_oid bigint");
  }

  public static void ensure(Statement s) throws SQLException {
    for (String sql : createStatements()) {
      s.execute(sql);
    }
  }

  public static Optional<Progress> read(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT acknowledged_lsn, acknowledged_at, last_commit_at, state,"
        + " state_reason, publication_oid FROM " + NAME + " WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new Progress((Long) rs.getObject(1), rs.getTimestamp(2), rs.getTimestamp(3),
            rs.getString(4), rs.getString(5), (Long) rs.getObject(6)));
      }
    }
  }

  /** Creates the slot's row if absent (state starting); an existing row keeps its position and counters. */
  public static void register(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + NAME + " (slot_name, state, updated_at)"
        + " VALUES (?, 'starting', now()) ON CONFLICT (slot_name) DO NOTHING")) {
      ps.setString(1, slot);
      ps.executeUpdate();
    }
  }

  /**
   * Records an acknowledged position (and the changes recorded in fallback form or set aside with it) in
   * the caller's transaction. The position never moves backwards.
   */
  public static void acknowledge(Connection c, String slot, long lsn, long lastCommitUnixMicros, long fallbacks,
      long setAside) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE " + NAME + " SET"
        + " acknowledged_lsn = GREATEST(coalesce(acknowledged_lsn, 0), ?), acknowledged_at = now(),"
        + " last_commit_at = coalesce(?, last_commit_at), fallback_changes = fallback_changes + ?,"
        + " set_aside_changes = set_aside_changes + ?, updated_at = now() WHERE slot_name = ?")) {
      ps.setLong(1, lsn);
      if (lastCommitUnixMicros > 0) {
        ps.setTimestamp(2, timestamp(lastCommitUnixMicros));
      } else {
        ps.setNull(2, Types.TIMESTAMP_WITH_TIMEZONE);
      }
      ps.setLong(3, fallbacks);
      ps.setLong(4, setAside);
      ps.setString(5, slot);
      ps.executeUpdate();
    }
  }

  /** A gap record was written (in the caller's transaction); {@code movedTo}, when not null, is the new position. */
  public static void gapRecorded(Connection c, String slot, Long movedTo, Long publicationOid) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE " + NAME + " SET gap_records = gap_records + 1,"
        + " acknowledged_lsn = coalesce(?, acknowledged_lsn), publication_oid = coalesce(?, publication_oid),"
        + " updated_at = now() WHERE slot_name = ?")) {
      setNullableLong(ps, 1, movedTo);
      setNullableLong(ps, 2, publicationOid);
      ps.setString(3, slot);
      ps.executeUpdate();
    }
  }

  public static void rememberPublication(Connection c, String slot, long publicationOid) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE " + NAME + " SET publication_oid = ?, updated_at = now() WHERE slot_name = ?")) {
      ps.setLong(1, publicationOid);
      ps.setString(2, slot);
      ps.executeUpdate();
    }
  }

  /** The state columns and the heartbeat, in the caller's transaction. */
  public static void heartbeat(Connection c, String slot, Snapshot s) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + NAME + " AS p (slot_name, state, state_reason,"
        + " last_error_class, last_error_message, last_error_at, consecutive_failures, updated_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, now()) ON CONFLICT (slot_name) DO UPDATE SET state = excluded.state,"
        + " state_reason = excluded.state_reason, last_error_class = excluded.last_error_class,"
        + " last_error_message = excluded.last_error_message, last_error_at = excluded.last_error_at,"
        + " consecutive_failures = excluded.consecutive_failures, updated_at = now()")) {
      ps.setString(1, slot);
      ps.setString(2, s.state());
      ps.setString(3, s.stateReason());
      ps.setString(4, s.lastErrorClass());
      ps.setString(5, s.lastErrorMessage());
      ps.setTimestamp(6, s.lastErrorAt());
      ps.setInt(7, s.consecutiveFailures());
      ps.executeUpdate();
    }
  }

  private static void setNullableLong(PreparedStatement ps, int index, Long value) throws SQLException {
    if (value == null) {
      ps.setNull(index, Types.BIGINT);
    } else {
      ps.setLong(index, value);
    }
  }

  static Timestamp timestamp(long unixMicros) {
    Timestamp t = new Timestamp(Math.floorDiv(unixMicros, 1000));
    t.setNanos((int) Math.floorMod(unixMicros, 1_000_000) * 1000);
    return t;
  }
}
