package io.pgtrail.worker.store;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.DdlTransaction;
import io.pgtrail.worker.sink.PartitionPeriod;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Converts an unpartitioned {@code changes} (Bemi's, or one an older pgtrail made) into a partitioned one
 * without losing a row, while the worker goes on writing:
 * <ol>
 *   <li>swap, in one short transaction: the old table becomes {@value #OLD} (its indexes renamed alike) and a
 *       new, partitioned, empty {@code changes} takes its name; the worker's next batch goes into it;</li>
 *   <li>partitions for every period the old table has rows in;</li>
 *   <li>copy the old rows in batches in {@code (committed_at, id)} order, each batch its own transaction,
 *       {@code ON CONFLICT DO NOTHING} (so a run that was interrupted is simply run again);</li>
 *   <li>verify that every old row is in {@code changes} by its replay key (a change the worker replayed
 *       into the new table after the swap is the same change under another id), then drop the old table
 *       only if asked.</li>
 * </ol>
 * Between steps 1 and 3 readers see the older history arrive batch by batch (docs/store.md).
 */
public final class StoreConversion {
  public static final String OLD = "changes_unpartitioned";

  /** What a conversion did; {@code missing} is the count of old rows not found in {@code changes}. */
  public record Result(boolean swapped, List<String> partitions, long copied, long oldRows, long missing,
      boolean droppedOld) {}

  private StoreConversion() {}

  public static Result convert(Connection c, PartitionPeriod period, int periodsAhead, int batchRows, boolean dropOld,
      Instant now, PrintWriter out) throws SQLException {
    if (!exists(c, ChangesTable.NAME)) {
      out.println("there is no changes table: nothing to convert (the worker creates a partitioned one)");
      return new Result(false, List.of(), 0, 0, 0, false);
    }
    boolean partitioned = ChangesTable.isPartitioned(c);
    boolean oldExists = exists(c, OLD);
    if (partitioned && !oldExists) {
      out.println("changes is already partitioned and no " + OLD + " is left: nothing to convert");
      return new Result(false, List.of(), 0, 0, 0, false);
    }
    if (!partitioned && oldExists) {
      throw new SQLException(OLD + " exists next to an unpartitioned changes: rename or drop one of them first",
          "42P07");
    }
    boolean swapped = false;
    if (!partitioned) {
      ChangesTable.ensure(c); // checks the old table's columns before anything changes
      swap(c, new ChangesTable.Layout(period, periodsAhead));
      swapped = true;
      out.println("renamed changes to " + OLD + " and created a partitioned changes; the worker now writes there");
    } else {
      out.println("resuming: copying what is left of " + OLD);
    }
    ChangesPartitions.ensureAhead(c, period, now, periodsAhead);
    List<String> partitions = partitionsForOldRows(c, period);
    out.println("partitions for the old rows: " + (partitions.isEmpty() ? "none needed" : String.join(", ", partitions)));
    long copied = copy(c, batchRows, out);
    long oldRows = count(c, "SELECT count(*) FROM " + OLD);
    long missing = count(c, "SELECT count(*) FROM " + OLD + " o WHERE NOT EXISTS (SELECT 1 FROM changes n"
        + " WHERE n.\"position\" = o.\"position\" AND n.\"table\" = o.\"table\" AND n.\"schema\" = o.\"schema\""
        + " AND n.\"database\" = o.\"database\" AND n.operation = o.operation AND n.committed_at = o.committed_at)");
    out.println("verified: " + (oldRows - missing) + " of " + oldRows + " rows of " + OLD + " are in changes");
    boolean dropped = false;
    if (missing == 0 && dropOld) {
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE " + OLD);
      }
      dropped = true;
      out.println("dropped " + OLD);
    } else if (missing == 0) {
      out.println("kept " + OLD + "; once you no longer want it: DROP TABLE " + OLD + ";");
    } else {
      out.println(missing + " rows are not in changes yet: run the conversion again (it resumes)");
    }
    return new Result(swapped, partitions, copied, oldRows, missing, dropped);
  }

  /** The rename and the new table, in one transaction: the old table is never without a name readers know. */
  private static void swap(Connection c, ChangesTable.Layout layout) throws SQLException {
    DdlTransaction.run(c, "30s", s -> {
      s.execute("LOCK TABLE changes IN ACCESS EXCLUSIVE MODE");
      s.execute("ALTER TABLE changes RENAME TO " + OLD);
      for (String index : indexesOf(c, OLD)) {
        if (index.startsWith("changes_")) {
          String renamed = OLD + index.substring("changes".length());
          s.execute("ALTER INDEX " + Identifiers.quote(index) + " RENAME TO "
              + Identifiers.quote(renamed.length() > 63 ? renamed.substring(0, 63) : renamed));
        }
      }
      for (String sql : ChangesTable.createStatements(layout)) {
        s.execute(sql);
      }
      return true;
    });
  }

  private static List<String> indexesOf(Connection c, String table) throws SQLException {
    List<String> names = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = to_regclass(?)")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
        }
      }
    }
    return names;
  }

  /** One partition per period the old table has rows in, unless a partition already covers part of it. */
  private static List<String> partitionsForOldRows(Connection c, PartitionPeriod period) throws SQLException {
    List<String> created = new ArrayList<>();
    List<ChangesPartitions.Partition> existing = ChangesPartitions.list(c);
    Instant from = null;
    while (true) {
      Instant next = nextOldCommit(c, from);
      if (next == null) {
        return created;
      }
      Instant start = period.start(next);
      Instant end = period.next(start);
      if (!overlaps(existing, start, end)) {
        String name = ChangesPartitions.nameFor(start);
        ChangesPartitions.create(c, name, start, end);
        created.add(name);
      }
      from = end;
    }
  }

  /** The earliest committed_at of the old table at or after {@code from} (an index lookup). */
  private static Instant nextOldCommit(Connection c, Instant from) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT min(committed_at) FROM " + OLD
        + (from == null ? "" : " WHERE committed_at >= ?"))) {
      if (from != null) {
        ps.setTimestamp(1, Timestamp.from(from));
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        Timestamp t = rs.getTimestamp(1);
        return t == null ? null : t.toInstant();
      }
    }
  }

  private static boolean overlaps(List<ChangesPartitions.Partition> partitions, Instant start, Instant end) {
    for (ChangesPartitions.Partition p : partitions) {
      if (!p.isDefault() && (p.from() == null || p.from().isBefore(end)) && (p.to() == null || p.to().isAfter(start))) {
        return true;
      }
    }
    return false;
  }

  /** Copies the old rows in keyset batches; returns the rows inserted (rows already there are skipped). */
  private static long copy(Connection c, int batchRows, PrintWriter out) throws SQLException {
    String columns = sharedColumns(c);
    long inserted = 0;
    long read = 0;
    Timestamp lastAt = null;
    Object lastId = null;
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (PreparedStatement first = c.prepareStatement(batchSql(columns, false));
        PreparedStatement next = c.prepareStatement(batchSql(columns, true))) {
      while (true) {
        PreparedStatement ps = lastAt == null ? first : next;
        if (lastAt == null) {
          ps.setInt(1, batchRows);
        } else {
          ps.setTimestamp(1, lastAt);
          ps.setObject(2, lastId);
          ps.setInt(3, batchRows);
        }
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          long batch = rs.getLong(1);
          if (batch == 0) {
            c.commit();
            return inserted;
          }
          read += batch;
          inserted += rs.getLong(2);
          lastAt = rs.getTimestamp(3);
          lastId = rs.getObject(4);
        }
        c.commit();
        out.println("  copied " + read + " rows (up to " + lastAt.toInstant() + ")");
        out.flush();
      }
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }

  private static String batchSql(String columns, boolean after) {
    return "WITH batch AS (SELECT " + columns + " FROM " + OLD
        + (after ? " WHERE (committed_at, id) > (?, ?)" : "") + " ORDER BY committed_at, id LIMIT ?),"
        + " ins AS (INSERT INTO changes (" + columns + ") SELECT " + columns + " FROM batch ON CONFLICT DO NOTHING"
        + " RETURNING 1),"
        + " last AS (SELECT committed_at, id FROM batch ORDER BY committed_at DESC, id DESC LIMIT 1)"
        + " SELECT (SELECT count(*) FROM batch), (SELECT count(*) FROM ins), last.committed_at, last.id"
        + " FROM (SELECT 1) one LEFT JOIN last ON true";
  }

  /** The columns both tables have (Bemi's; a column someone added to the old table stays behind in it). */
  private static String sharedColumns(Connection c) throws SQLException {
    List<String> columns = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_attribute a WHERE a.attrelid ="
        + " to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped AND EXISTS (SELECT 1 FROM pg_attribute b"
        + " WHERE b.attrelid = to_regclass(?) AND b.attname = a.attname AND NOT b.attisdropped) ORDER BY a.attnum")) {
      ps.setString(1, ChangesTable.NAME);
      ps.setString(2, OLD);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add(Identifiers.quote(rs.getString(1)));
        }
      }
    }
    return String.join(", ", columns);
  }

  private static boolean exists(Connection c, String table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
