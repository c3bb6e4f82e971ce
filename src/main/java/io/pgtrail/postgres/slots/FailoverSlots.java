package io.pgtrail.postgres.slots;

import io.pgtrail.postgres.catalog.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What a primary tells about the survival of pgtrail's slot: the slot's {@code failover}/{@code synced}
 * flags (PostgreSQL 17+), the standby slots named in {@code synchronized_standby_slots}, and the PostgreSQL 18
 * {@code idle_replication_slot_timeout}. Reads the catalog only. {@code sync_replication_slots} is a standby
 * setting and cannot be seen from the primary: the readiness verdict names it in its fix-it text instead.
 */
public final class FailoverSlots {
  /** The first major that can create failover slots and synchronize them to standbys. */
  public static final int FIRST_MAJOR = 17;
  /** The first major with {@code idle_replication_slot_timeout}. */
  public static final int IDLE_TIMEOUT_MAJOR = 18;

  private FailoverSlots() {}

  public static boolean supported(int major) {
    return major >= FIRST_MAJOR;
  }

  /** The slot's high-availability flags; {@code invalidationReason} is null while the slot is usable. */
  public record SlotFlags(boolean failover, boolean synced, boolean temporary, String invalidationReason) {}

  /** Standby side as the primary sees it. */
  public record StandbyFacts(
      List<String> synchronizedStandbySlots,
      List<String> missingStandbySlots,
      List<String> inactiveStandbySlots,
      int streamingStandbys) {

    public boolean standbysAttached() {
      return streamingStandbys > 0;
    }
  }

  /** Failover-ready or not, and if not, what to set (no secrets, no row data). */
  public record Readiness(boolean ready, String observed, String fixIt) {}

  /** The slot's flags on PostgreSQL 17+; empty on older servers or when the slot does not exist. */
  public static Optional<SlotFlags> flags(Connection c, String slot) throws SQLException {
    if (!supported(c.getMetaData().getDatabaseMajorVersion())) {
      return Optional.empty();
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT failover, synced, temporary, invalidation_reason"
        + " FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new SlotFlags(rs.getBoolean(1), rs.getBoolean(2), rs.getBoolean(3), rs.getString(4)));
      }
    }
  }

  /** Why the slot can no longer be used (PostgreSQL 17+: invalidation_reason; 16: conflicting), or empty. */
  public static Optional<String> invalidation(Connection c, String slot) throws SQLException {
    int major = c.getMetaData().getDatabaseMajorVersion();
    String column = major >= 17 ? "invalidation_reason"
        : major == 16 ? "CASE WHEN conflicting THEN 'conflicting' END" : "NULL::text";
    try (PreparedStatement ps = c.prepareStatement("SELECT " + column + " FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
      }
    }
  }

  public static StandbyFacts standbys(Connection c) throws SQLException {
    List<String> named = List.of();
    if (supported(c.getMetaData().getDatabaseMajorVersion())) {
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT current_setting('synchronized_standby_slots', true)")) {
        rs.next();
        named = parseSlotList(rs.getString(1));
      }
    }
    List<String> missing = new ArrayList<>();
    List<String> inactive = new ArrayList<>();
    for (String name : named) {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT active FROM pg_replication_slots WHERE slot_name = ? AND slot_type = 'physical'")) {
        ps.setString(1, name);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            missing.add(name);
          } else if (!rs.getBoolean(1)) {
            inactive.add(name);
          }
        }
      }
    }
    int streaming;
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_replication r WHERE r.state = 'streaming'"
            + " AND NOT EXISTS (SELECT 1 FROM pg_replication_slots l WHERE l.active_pid = r.pid"
            + " AND l.slot_type = 'logical')")) {
      rs.next();
      streaming = rs.getInt(1);
    }
    return new StandbyFacts(named, missing, inactive, streaming);
  }

  /** {@code synchronized_standby_slots} is a comma-separated list of slot names (quoted or not). */
  static List<String> parseSlotList(String value) {
    if (value == null || value.isBlank()) {
      return List.of();
    }
    return Arrays.stream(value.split(","))
        .map(String::trim)
        .map(s -> s.length() > 1 && s.startsWith("\"") && s.endsWith("\"") ? s.substring(1, s.length() - 1) : s)
        .filter(s -> !s.isEmpty())
        .toList();
  }

  /** {@code idle_replication_slot_timeout} in seconds; 0 when off or when the server does not have it. */
  public static long idleSlotTimeoutSeconds(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT setting::bigint, unit FROM pg_settings"
            + " WHERE name = 'idle_replication_slot_timeout'")) {
      if (!rs.next()) {
        return 0;
      }
      long value = rs.getLong(1);
      String unit = rs.getString(2);
      return "min".equals(unit) ? value * 60 : "ms".equals(unit) ? value / 1000 : value;
    }
  }

  /**
   * Whether the slot survives a promotion. {@code flags} is empty when the slot does not exist yet (it will
   * then be created with {@code failover} when {@code requested}).
   */
  public static Readiness assess(int major, boolean requested, String slot, Optional<SlotFlags> flags,
      StandbyFacts standbys) {
    if (!supported(major)) {
      return new Readiness(false, "PostgreSQL " + major + " cannot synchronize logical slots to standbys",
          "After a failover the slot is gone and pgtrail records a gap and stops; failover slots need PostgreSQL "
              + FIRST_MAJOR + " or newer.");
    }
    if (!requested) {
      return new Readiness(false, "failover slots are turned off for this source",
          "Turn them on (SourceDatabase spec.failoverSlot: true, or without --no-failover-slot) to keep the slot on "
              + "synchronized standbys.");
    }
    String quoted = Identifiers.quote(slot);
    if (flags.isPresent() && !flags.get().failover()) {
      return new Readiness(false, "slot " + quoted + " was created without failover",
          "Stop the worker, then turn failover on over a replication connection (psql \"dbname=... replication="
              + "database\"): ALTER_REPLICATION_SLOT " + quoted + " (FAILOVER true); or drop the slot and let "
              + "pgtrail create it again (changes in between are not recorded).");
    }
    String slotState = flags.isPresent() ? "slot " + quoted + " has failover on" : "slot " + quoted
        + " will be created with failover";
    if (standbys.synchronizedStandbySlots().isEmpty()) {
      if (!standbys.standbysAttached()) {
        return new Readiness(false, slotState + "; no physical standby is attached and synchronized_standby_slots is"
            + " empty", standbySetup(slot));
      }
      return new Readiness(false, slotState + "; " + standbys.streamingStandbys() + " standby(s) attached but"
          + " synchronized_standby_slots is empty, so pgtrail may record changes a promoted standby never received",
          standbySetup(slot));
    }
    if (!standbys.missingStandbySlots().isEmpty()) {
      return new Readiness(false, "synchronized_standby_slots names slot(s) that do not exist: "
          + String.join(", ", standbys.missingStandbySlots()), "Create the standby's physical slot "
          + "(SELECT pg_create_physical_replication_slot('<name>');) and set primary_slot_name on that standby, or "
          + "remove the name from synchronized_standby_slots: pgtrail's stream waits for every slot listed there.");
    }
    if (!standbys.inactiveStandbySlots().isEmpty()) {
      return new Readiness(false, "standby slot(s) " + String.join(", ", standbys.inactiveStandbySlots())
          + " named in synchronized_standby_slots are not streaming", "Start that standby or remove its slot from "
          + "synchronized_standby_slots: until then pgtrail's stream waits for it and no change is recorded.");
    }
    return new Readiness(true, slotState + "; synchronized_standby_slots = "
        + String.join(", ", standbys.synchronizedStandbySlots()), "");
  }

  /** The full recipe: the primary half can be checked from here, the standby half cannot. */
  static String standbySetup(String slot) {
    return "To keep slot " + Identifiers.quote(slot) + " across a failover, on each standby set "
        + "sync_replication_slots = on, hot_standby_feedback = on, primary_slot_name = '<its physical slot>' and a "
        + "dbname in primary_conninfo; on the primary set synchronized_standby_slots = '<those physical slots>' "
        + "(ALTER SYSTEM SET ...; SELECT pg_reload_conf();). CloudNativePG: spec.replicationSlots."
        + "highAvailability.synchronizeLogicalDecoding: true; Patroni: a permanent slot. See docs/high-availability.md.";
  }
}
