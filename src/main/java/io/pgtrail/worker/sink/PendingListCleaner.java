package io.pgtrail.worker.sink;

import io.pgtrail.postgres.connect.ConnectionSettings;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the GIN pending lists of the {@code changes} indexes into the indexes, on a connection of its own,
 * so the writer never has to: a writer that finds a list full merges it inline and stalls its batch
 * (writers skip the merge while this one runs). Merging is background work, so it waits for a pause in
 * the writes ({@link Schedule#idleAfter()} without a commit) and then runs at once; under continuous
 * writes it runs every {@link Schedule#atLatest()}. Larger merges cost less CPU a row, and merging in the
 * middle of a burst takes CPU from the writer ({@code pgtrail bench} on 2 cores: 33,000 to 34,000 changes/s
 * merging every 5 s, 36,600 to 37,400 every 10 s). A GIN query also scans the unmerged entries:
 * at most {@code atLatest} of changes. Needs ownership of the table (the worker creates it); without it
 * the cleaner stops and the writers merge as usual.
 */
public final class PendingListCleaner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PendingListCleaner.class);
  private static final List<String> GIN_INDEXES =
      List.of("changes_before_index", "changes_after_index", "changes_context_index");

  /** When to merge: {@code idleAfter} without writes, but no later than {@code atLatest} after the last merge. */
  public record Schedule(Duration idleAfter, Duration atLatest) {
    public static final Schedule DEFAULT = new Schedule(Duration.ofSeconds(1), Duration.ofSeconds(10));

    long tickMillis() {
      return Math.max(10, Math.min(250, Math.min(idleAfter.toMillis(), atLatest.toMillis()) / 2));
    }
  }

  private final BackgroundConnection background;
  private final Schedule schedule;
  private final LongSupplier lastWriteNanos;
  private final LongSupplier nanoClock;
  private long lastMergeNanos;
  private long mergedUpToWriteNanos = Long.MIN_VALUE;

  /**
   * @param lastWriteNanos the {@link System#nanoTime()} of the writer's last commit, {@link Long#MIN_VALUE}
   *     before the first
   */
  public PendingListCleaner(ConnectionSettings destination, Schedule schedule, LongSupplier lastWriteNanos) {
    this(destination, schedule, lastWriteNanos, System::nanoTime);
    background.schedule(this::tick, schedule.tickMillis(), schedule.tickMillis());
  }

  /** Unscheduled, on the given clock: the caller decides when {@link #tick()} runs (tests). */
  PendingListCleaner(ConnectionSettings destination, Schedule schedule, LongSupplier lastWriteNanos,
      LongSupplier nanoClock) {
    this.background = new BackgroundConnection(destination, "pgtrail-gin-cleaner");
    this.schedule = schedule;
    this.lastWriteNanos = lastWriteNanos;
    this.nanoClock = nanoClock;
    this.lastMergeNanos = nanoClock.getAsLong();
  }

  void tick() {
    long now = nanoClock.getAsLong();
    long lastWrite = lastWriteNanos.getAsLong();
    boolean written = lastWrite != Long.MIN_VALUE && lastWrite != mergedUpToWriteNanos;
    boolean paused = now - lastWrite >= schedule.idleAfter().toNanos();
    boolean due = now - lastMergeNanos >= schedule.atLatest().toNanos();
    if (written && (paused || due)) {
      cleanSafely();
      lastMergeNanos = now;
      mergedUpToWriteNanos = lastWrite;
    }
  }

  private void cleanSafely() {
    try {
      clean();
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        LOG.info("not allowed to clean the GIN pending lists of changes (not its owner); writers will do it");
        background.stopScheduling();
      } else {
        LOG.debug("GIN pending list cleanup failed: {}", e.getMessage());
      }
      background.reset();
    } catch (Exception e) {
      LOG.debug("GIN pending list cleanup failed: {}", e.getMessage());
      background.reset();
    }
  }

  private void clean() throws Exception {
    // a partitioned table's index has one leaf index per partition: those hold the pending lists
    try (PreparedStatement ps = background.connection().prepareStatement(
        "SELECT gin_clean_pending_list(x.oid) FROM (SELECT relid AS oid FROM pg_partition_tree(to_regclass(?))"
            + " WHERE isleaf UNION SELECT c.oid FROM pg_class c WHERE c.oid = to_regclass(?) AND c.relkind = 'i') x")) {
      for (String index : GIN_INDEXES) {
        ps.setString(1, index);
        ps.setString(2, index);
        ps.execute();
      }
    }
  }

  @Override
  public void close() {
    background.close();
  }
}
