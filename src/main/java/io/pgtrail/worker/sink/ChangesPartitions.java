package io.pgtrail.worker.sink;

import io.pgtrail.postgres.catalog.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The range partitions of a partitioned {@code changes}: listing them with their bounds (read from the
 * catalog, so partitions made by hand or by a conversion count too), and creating the next ones ahead of
 * time. Partitions are contiguous: each new one starts where the newest ends, so a worker that was down for
 * a while fills the gap, and a change of period (weekly to daily) takes effect at the next boundary. The
 * default partition takes any row outside them (a clock far off, history older than the first partition),
 * so a write never fails for lack of a partition; when a partition is created for a range the default
 * partition already holds rows of, those rows move into it in the same transaction.
 */
public final class ChangesPartitions {
  private static final Logger LOG = LoggerFactory.getLogger(ChangesPartitions.class);
  private static final DateTimeFormatter NAME_DATE = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);

  /** DDL on the parent waits at most this long for a lock (behind a long report, say), then tries again later. */
  static final String LOCK_TIMEOUT = "5s";

  /** A partition; {@code from}/{@code to} are null for MINVALUE/MAXVALUE, both null for the default partition. */
  public record Partition(String name, Instant from, Instant to, boolean isDefault, long estimatedRows) {}

  private ChangesPartitions() {}

  /** The partitions of {@code changes}, ordered by their lower bound (the default partition last). */
  public static List<Partition> list(Connection c) throws SQLException {
    List<Partition> partitions = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT p.relname, b.bound = 'DEFAULT',"
            + " (regexp_match(b.bound, 'FROM \\(''([^'']*)''\\)'))[1]::timestamptz,"
            + " (regexp_match(b.bound, 'TO \\(''([^'']*)''\\)'))[1]::timestamptz,"
            + " greatest(p.reltuples, 0)::bigint"
            + " FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid,"
            + " LATERAL (SELECT pg_get_expr(p.relpartbound, p.oid) AS bound) b"
            + " WHERE i.inhparent = to_regclass(?) ORDER BY 2, 3 NULLS FIRST")) {
      ps.setString(1, ChangesTable.NAME);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          partitions.add(new Partition(rs.getString(1), instant(rs.getTimestamp(3)), instant(rs.getTimestamp(4)),
              rs.getBoolean(2), rs.getLong(5)));
        }
      }
    }
    return partitions;
  }

  private static Instant instant(Timestamp t) {
    return t == null ? null : t.toInstant();
  }

  /**
   * Creates partitions from the end of the newest one (or the start of the current period) through
   * {@code periodsAhead} periods after the current one. Returns the names created.
   */
  public static List<String> ensureAhead(Connection c, PartitionPeriod period, Instant now, int periodsAhead)
      throws SQLException {
    Instant until = period.start(now);
    for (int i = 0; i <= periodsAhead; i++) {
      until = period.next(until);
    }
    Instant from = null;
    for (Partition p : list(c)) {
      if (!p.isDefault()) {
        if (p.to() == null) {
          return List.of(); // someone made a partition up to MAXVALUE: nothing can follow it
        }
        from = from == null || p.to().isAfter(from) ? p.to() : from;
      }
    }
    if (from == null) {
      from = period.start(now);
    }
    List<String> created = new ArrayList<>();
    while (from.isBefore(until)) {
      Instant to = period.next(from);
      String name = nameFor(from);
      create(c, name, from, to);
      created.add(name);
      from = to;
    }
    return created;
  }

  /** {@code changes_pYYYYMMDD}, after the first day the partition covers (UTC). */
  public static String nameFor(Instant from) {
    return ChangesTable.NAME + "_p" + NAME_DATE.format(from);
  }

  /**
   * Creates one partition for {@code [from, to)}: a plain table like {@code changes}, with the rows the default
   * partition holds for that range moved in, a CHECK constraint that proves the range, then ATTACHed. ATTACH
   * takes a SHARE UPDATE EXCLUSIVE lock on {@code changes}, so readers and the writer go on meanwhile
   * (CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE one).
   */
  public static void create(Connection c, String name, Instant from, Instant to) throws SQLException {
    String table = Identifiers.quote(name);
    String range = "committed_at >= " + literal(from) + " AND committed_at < " + literal(to);
    // the worker's start and its maintenance thread may both get here: one at a time, and once
    boolean created = DdlTransaction.run(c, LOCK_TIMEOUT, s -> {
      if (relationExists(c, name)) {
        return false;
      }
      s.execute("CREATE TABLE " + table + " (LIKE changes INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
      if (hasDefaultPartition(c)) {
        int moved = s.executeUpdate("WITH moved AS (DELETE FROM " + ChangesTable.DEFAULT_PARTITION + " WHERE " + range
            + " RETURNING *) INSERT INTO " + table + " SELECT * FROM moved");
        if (moved > 0) {
          LOG.info("moved {} rows from {} into the new partition {}", moved, ChangesTable.DEFAULT_PARTITION, name);
        }
      }
      String check = Identifiers.quote(name + "_range");
      s.execute("ALTER TABLE " + table + " ADD CONSTRAINT " + check + " CHECK (" + range + ")");
      s.execute("ALTER TABLE changes ATTACH PARTITION " + table + " FOR VALUES FROM (" + literal(from) + ") TO ("
          + literal(to) + ")");
      s.execute("ALTER TABLE " + table + " DROP CONSTRAINT " + check);
      return true;
    });
    if (created) {
      LOG.info("created partition {} of changes for [{}, {})", name, from, to);
    }
  }

  private static boolean relationExists(Connection c, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, Identifiers.quote(name));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static boolean hasDefaultPartition(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(?) AND partdefid <> 0")) {
      ps.setString(1, ChangesTable.NAME);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** A timestamptz literal of an instant we computed (never user input). */
  static String literal(Instant t) {
    return "'" + t + "'::timestamptz";
  }
}
