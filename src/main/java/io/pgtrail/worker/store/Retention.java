package io.pgtrail.worker.store;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.DdlTransaction;
import io.pgtrail.worker.sink.UuidV7;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes whole partitions of {@code changes} whose every change is older than the retention: DROP TABLE (a
 * file unlink, whatever the row count) or DETACH PARTITION (the rows stay in a plain table of the same name,
 * out of {@code changes}, to archive and drop later). Never row by row. The default partition is never
 * removed. Each removal is written into the trail itself, in the same transaction: a {@code MESSAGE} row
 * with {@code context->'pgtrail'->'retention'} naming the partition, its range and action (docs/store.md).
 */
public final class Retention {
  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
  private static final UuidV7 IDS = new UuidV7();

  /** One partition removed; {@code estimatedRows} is the planner's count (pg_class.reltuples). */
  public record Removed(String partition, Instant from, Instant to, long estimatedRows,
      StoreSettings.RetentionMode action, Duration took) {}

  private Retention() {}

  /** The partitions that fall entirely before {@code now - retention}. */
  public static List<ChangesPartitions.Partition> expired(List<ChangesPartitions.Partition> partitions, Instant now,
      Duration retention) {
    Instant cutoff = now.minus(retention);
    List<ChangesPartitions.Partition> expired = new ArrayList<>();
    for (ChangesPartitions.Partition p : partitions) {
      if (!p.isDefault() && p.to() != null && !p.to().isAfter(cutoff)) {
        expired.add(p);
      }
    }
    return expired;
  }

  /** Removes the expired partitions, each in its own short transaction; returns what was removed. */
  public static List<Removed> apply(Connection c, Instant now, Duration retention, StoreSettings.RetentionMode mode)
      throws SQLException {
    List<Removed> removed = new ArrayList<>();
    for (ChangesPartitions.Partition p : expired(ChangesPartitions.list(c), now, retention)) {
      removed.add(remove(c, p, now, mode));
    }
    return removed;
  }

  public static Removed remove(Connection c, ChangesPartitions.Partition p, Instant now, StoreSettings.RetentionMode mode)
      throws SQLException {
    long started = System.nanoTime();
    DdlTransaction.run(c, "5s", s -> {
      String table = Identifiers.quote(p.name());
      s.execute(mode == StoreSettings.RetentionMode.DROP ? "DROP TABLE " + table
          : "ALTER TABLE " + ChangesTable.NAME + " DETACH PARTITION " + table);
      record(c, p, now, mode);
      return true;
    });
    Removed r = new Removed(p.name(), p.from(), p.to(), p.estimatedRows(), mode,
        Duration.ofNanos(System.nanoTime() - started));
    LOG.info("retention: {} partition {} of changes ([{}, {}), about {} rows) in {} ms",
        mode == StoreSettings.RetentionMode.DROP ? "dropped" : "detached", p.name(), p.from(), p.to(),
        p.estimatedRows(), r.took().toMillis());
    return r;
  }

  /** The MESSAGE row that says, in the trail, which changes retention took out of it. */
  private static void record(Connection c, ChangesPartitions.Partition p, Instant now,
      StoreSettings.RetentionMode mode) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + ChangesTable.NAME
        + " (id, \"database\", \"schema\", \"table\", operation, context, committed_at, queued_at, transaction_id,"
        + " \"position\") VALUES (?, current_database(), 'pgtrail', ?, 'MESSAGE',"
        + " jsonb_build_object('pgtrail', jsonb_build_object('retention', jsonb_build_object('action', ?::text,"
        + " 'partition', ?::text, 'from', ?::timestamptz, 'to', ?::timestamptz, 'estimated_rows', ?::bigint))),"
        + " ?, ?, 0, 0)")) {
      ps.setObject(1, IDS.next());
      ps.setString(2, p.name());
      ps.setString(3, mode.name().toLowerCase(java.util.Locale.ROOT));
      ps.setString(4, p.name());
      ps.setTimestamp(5, p.from() == null ? null : Timestamp.from(p.from()));
      ps.setTimestamp(6, Timestamp.from(p.to()));
      ps.setLong(7, p.estimatedRows());
      ps.setTimestamp(8, Timestamp.from(now));
      ps.setTimestamp(9, Timestamp.from(now));
      ps.executeUpdate();
    }
  }
}
