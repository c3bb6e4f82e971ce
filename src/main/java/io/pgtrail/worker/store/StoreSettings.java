package io.pgtrail.worker.store;

import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PartitionPeriod;
import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the audit store is kept: the layout of a new {@code changes} table, how long changes are kept, and
 * whether expired partitions are dropped or detached (kept as plain tables, to archive them).
 *
 * @param retention null: kept forever
 */
public record StoreSettings(ChangesTable.Layout layout, Duration retention, RetentionMode retentionMode) {
  public static final StoreSettings DEFAULT = new StoreSettings(ChangesTable.Layout.DEFAULT, null, RetentionMode.DROP);

  private static final Pattern RETENTION = Pattern.compile("([1-9][0-9]{0,5})([dw])");

  /** What happens to a partition whose every change is older than the retention. */
  public enum RetentionMode {
    DROP,
    DETACH;

    public static RetentionMode parse(String value) {
      try {
        return valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("retentionMode must be drop or detach, got '" + value + "'");
      }
    }
  }

  /** Parses the settings; nulls mean the defaults. Problems name the key. */
  public static StoreSettings parse(String partitionBy, Integer partitionsAhead, String retention,
      String retentionMode) {
    ChangesTable.Layout layout;
    int ahead = partitionsAhead == null ? ChangesTable.Layout.DEFAULT.periodsAhead() : partitionsAhead;
    if (ahead < 0 || ahead > 60) {
      throw new IllegalArgumentException("store.partitionsAhead must be between 0 and 60, got " + ahead);
    }
    if (partitionBy == null) {
      layout = new ChangesTable.Layout(ChangesTable.Layout.DEFAULT.period(), ahead);
    } else if (partitionBy.trim().equalsIgnoreCase("none")) {
      layout = ChangesTable.Layout.UNPARTITIONED;
    } else {
      layout = new ChangesTable.Layout(PartitionPeriod.parse(partitionBy), ahead);
    }
    Duration kept = parseRetention(retention);
    if (kept != null && !layout.partitioned()) {
      throw new IllegalArgumentException("store.retention needs a partitioned changes table (partitionBy daily,"
          + " weekly or monthly): retention drops whole partitions, never rows one by one");
    }
    return new StoreSettings(layout, kept, retentionMode == null ? RetentionMode.DROP : RetentionMode.parse(retentionMode));
  }

  /** {@code 90d}, {@code 12w}, or {@code none}/null (keep forever). */
  public static Duration parseRetention(String value) {
    if (value == null || value.trim().equalsIgnoreCase("none")) {
      return null;
    }
    Matcher m = RETENTION.matcher(value.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("store.retention must be a number of days or weeks such as 90d or 12w,"
          + " or none, got '" + value + "'");
    }
    long n = Long.parseLong(m.group(1));
    return m.group(2).equals("w") ? Duration.ofDays(7 * n) : Duration.ofDays(n);
  }
}
