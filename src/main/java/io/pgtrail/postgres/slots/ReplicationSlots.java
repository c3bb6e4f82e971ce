package io.pgtrail.postgres.slots;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/** Logical replication slots: existence, creation and the facts worth reporting. */
public final class ReplicationSlots {
  public static final String PLUGIN = "pgoutput";

  private ReplicationSlots() {}

  /** What pg_replication_slots says about one slot. */
  public record SlotStatus(
      String name,
      String plugin,
      String database,
      boolean active,
      String restartLsn,
      String confirmedFlushLsn,
      long retainedWalBytes,
      String walStatus,
      /** Bytes that can still be written before the slot is at risk of losing WAL (null: unlimited or PG &lt; 13). */
      Long safeWalSize,
      /** pg_current_wal_lsn() minus confirmed_flush_lsn: WAL written since the worker's last acknowledgement. */
      long pendingWalBytes) {}

  public static Optional<SlotStatus> read(Connection c, String slot) throws SQLException {
    boolean hasWalStatus = c.getMetaData().getDatabaseMajorVersion() >= 13;
    String sql = "SELECT slot_name, plugin, database, active, restart_lsn::text, confirmed_flush_lsn::text,"
        + " COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint,"
        + (hasWalStatus ? " wal_status, safe_wal_size" : " NULL::text, NULL::bigint")
        + ", COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint"
        + " FROM pg_replication_slots WHERE slot_name = ?";
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new SlotStatus(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
            rs.getString(5), rs.getString(6), rs.getLong(7), rs.getString(8),
            rs.getObject(9) == null ? null : rs.getLong(9), rs.getLong(10)));
      }
    }
  }

  /**
   * Creates the logical slot with pgoutput unless it exists. Returns true when it created one. Must run
   * outside a transaction that has written anything, and after the publication exists.
   */
  public static boolean ensureLogicalSlot(Connection c, String slot) throws SQLException {
    Identifiers.requireReplicationName("replication slot", slot);
    Optional<SlotStatus> existing = read(c, slot);
    if (existing.isPresent()) {
      SlotStatus s = existing.get();
      if (!PLUGIN.equals(s.plugin())) {
        throw new SQLException("replication slot \"" + slot + "\" exists with plugin " + s.plugin()
            + ", not pgoutput: drop it or choose another slot name", "42710");
      }
      if (!c.getCatalog().equals(s.database())) {
        throw new SQLException("replication slot \"" + slot + "\" belongs to database \"" + s.database()
            + "\": choose another slot name", "42710");
      }
      return false;
    }
    // failover where supported, as setup creates it: a worker that recreates the slot must not lose that
    Sql create = createSlot(slot, true, c.getMetaData().getDatabaseMajorVersion());
    try (PreparedStatement ps = c.prepareStatement(create.text())) {
      ps.setString(1, slot);
      ps.execute();
    }
    return true;
  }

  /** Drops the slot if it exists and no one streams from it. Returns true when it dropped one. */
  public static boolean dropIfExists(Connection c, String slot) throws SQLException {
    if (read(c, slot).isEmpty()) {
      return false;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(?)")) {
      ps.setString(1, slot);
      ps.execute();
    }
    return true;
  }

  public static Sql createSlot(String slot) {
    return new Sql("SELECT pg_create_logical_replication_slot(?, 'pgoutput')", List.of(slot));
  }

  /**
   * The slot with {@code failover} on (PostgreSQL 17+): standbys with {@code sync_replication_slots} keep a
   * copy, so it survives a promotion. Arguments: name, plugin, temporary, two-phase, failover.
   */
  public static Sql createFailoverSlot(String slot) {
    return new Sql("SELECT pg_create_logical_replication_slot(?, 'pgoutput', false, false, true)", List.of(slot));
  }

  /** The slot as {@code failover} asks for it on a server of {@code major}: failover only where supported. */
  public static Sql createSlot(String slot, boolean failover, int major) {
    return failover && FailoverSlots.supported(major) ? createFailoverSlot(slot) : createSlot(slot);
  }
}
