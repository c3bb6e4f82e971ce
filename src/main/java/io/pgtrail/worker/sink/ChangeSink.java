package io.pgtrail.worker.sink;

import io.pgtrail.worker.Change;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * Writes batches of changes into the destination {@code changes} table. A batch is one COPY and one
 * commit. A replayed change (after a restart, the source sends again what was not yet acknowledged) makes
 * the plain COPY fail on the unique key; the batch is then written through a staging table with
 * {@code INSERT ... ON CONFLICT DO NOTHING}, and so are the following batches until one has no replays.
 */
public final class ChangeSink implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChangeSink.class);
  private static final String UNIQUE_VIOLATION = "23505";
  private static final String STAGING = "pgtrail_staging";
  private static final int STREAM_CHUNK_BYTES = 64 * 1024;

  /** Told about each (schema.table, operation) count once its batch is committed. */
  @FunctionalInterface
  public interface RecordedListener {
    void recorded(String schema, String table, String operation, long count);
  }

  /** What one flush did. */
  public record FlushResult(int rows, int inserted, boolean absorbedReplays) {}

  private final Connection connection;
  private final CopyManager copy;
  private final RecordedListener listener;
  private final CopyBinaryBuffer batch = new CopyBinaryBuffer();
  private final UuidV7 ids = new UuidV7();
  private final Map<String, long[]> counts = new HashMap<>();
  private String lastSchema;
  private String lastTable;
  private Change.Operation lastOperation;
  private long[] lastCount;
  private int rows;
  private volatile long lastCommitNanos = Long.MIN_VALUE;
  private int pushedBytes;
  private CopyIn streaming;
  private SQLException streamFailure;
  private boolean absorbing;

  public ChangeSink(Connection destination, RecordedListener listener) throws SQLException {
    this.connection = destination;
    this.copy = destination.unwrap(PGConnection.class).getCopyAPI();
    this.listener = listener;
    ChangesTable.ensure(destination);
    try (Statement s = destination.createStatement()) {
      // the slot is acknowledged after this commit: it must survive a destination crash
      s.execute("SET synchronous_commit = on");
    }
    destination.setAutoCommit(false);
  }

  /** The {@link System#nanoTime()} of the last commit of a batch; {@link Long#MIN_VALUE} before the first. */
  public long lastCommitNanos() {
    return lastCommitNanos;
  }

  public int pendingRows() {
    return rows;
  }

  public long pendingBytes() {
    return batch.size();
  }

  public void add(Change change) {
    batch.startRow(ChangesTable.WRITTEN_COLUMNS.size())
        .uuid(ids.nextBits())
        .text(change.database())
        .text(change.schema())
        .text(change.table())
        .text(change.primaryKey())
        .text(change.operation().name())
        .jsonb(change.before())
        .jsonb(change.after())
        .jsonb(change.context())
        .timestamptz(change.committedAtMicros())
        .timestamptz(change.queuedAtMicros())
        .int8(change.transactionId())
        .int8(change.position());
    rows++;
    count(change);
    if (!absorbing && batch.size() - pushedBytes >= STREAM_CHUNK_BYTES) {
      push();
    }
  }

  /** Consecutive changes mostly share their table and operation: their counter is looked up once. */
  private void count(Change change) {
    if (lastCount == null || change.schema() != lastSchema || change.table() != lastTable
        || change.operation() != lastOperation) {
      lastSchema = change.schema();
      lastTable = change.table();
      lastOperation = change.operation();
      lastCount = counts.computeIfAbsent(lastSchema + '\u0000' + lastTable + '\u0000' + lastOperation.name(),
          k -> new long[1]);
    }
    lastCount[0]++;
  }

  /**
   * Sends the rows encoded so far into the open COPY, so the destination works on them while the next rows
   * are decoded. A failure is kept for {@link #flush()}, which decides between a replay and an outage.
   */
  private void push() {
    if (streamFailure != null) {
      return;
    }
    try {
      if (streaming == null) {
        streaming = copy.copyIn(copySql(ChangesTable.NAME));
      }
      streaming.writeToCopy(batch.array(), pushedBytes, batch.size() - pushedBytes);
      pushedBytes = batch.size();
    } catch (SQLException e) {
      streamFailure = e;
    }
  }

  private static String copySql(String table) {
    return "COPY " + table + " (" + ChangesTable.columnList() + ") FROM STDIN (FORMAT binary)";
  }

  /** Writes and commits everything added since the last flush. */
  public FlushResult flush() throws SQLException {
    if (rows == 0) {
      return new FlushResult(0, 0, false);
    }
    batch.finish();
    int inserted;
    boolean absorbed = absorbing;
    try {
      inserted = absorbing ? writeThroughStaging() : writeDirect();
    } catch (SQLException e) {
      abandonCopy();
      connection.rollback();
      if (!isUniqueViolation(e)) {
        throw e;
      }
      absorbing = true;
      absorbed = true;
      LOG.info("the destination already holds part of this batch (a replay after a restart);"
          + " writing through the staging table until replays stop");
      try {
        inserted = writeThroughStaging();
      } catch (SQLException again) {
        connection.rollback();
        throw again;
      }
    }
    if (absorbed && inserted == rows) {
      absorbing = false;
    }
    lastCommitNanos = System.nanoTime();
    FlushResult result = new FlushResult(rows, inserted, absorbed);
    reportCounts();
    clear();
    return result;
  }

  private int writeDirect() throws SQLException {
    push();
    if (streamFailure != null) {
      throw streamFailure;
    }
    streaming.endCopy();
    streaming = null;
    connection.commit();
    return rows;
  }

  private void abandonCopy() {
    if (streaming != null && streaming.isActive()) {
      try {
        streaming.cancelCopy();
      } catch (SQLException ignored) {
        // the COPY already failed on the server; the rollback that follows cleans up
      }
    }
    streaming = null;
  }

  private static boolean isUniqueViolation(SQLException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && UNIQUE_VIOLATION.equals(sql.getSQLState())) {
        return true;
      }
    }
    return false;
  }

  /** Replaces the batch's counts with what was really inserted and returns the total. */
  private int writeThroughStaging() throws SQLException {
    Map<String, long[]> inserted = new HashMap<>();
    int total = 0;
    try (Statement s = connection.createStatement()) {
      s.execute("CREATE TEMP TABLE IF NOT EXISTS " + STAGING + " (LIKE " + ChangesTable.NAME
          + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
      copyBatchInto(STAGING);
      try (ResultSet rs = s.executeQuery("WITH inserted AS (INSERT INTO " + ChangesTable.NAME
          + " (" + ChangesTable.columnList() + ") SELECT " + ChangesTable.columnList() + " FROM " + STAGING
          // no conflict target: the replay key differs between a partitioned and a plain (Bemi) table
          + " ON CONFLICT DO NOTHING RETURNING \"schema\", \"table\", operation)"
          + " SELECT \"schema\", \"table\", operation, count(*) FROM inserted GROUP BY 1, 2, 3")) {
        while (rs.next()) {
          inserted.put(rs.getString(1) + '\u0000' + rs.getString(2) + '\u0000' + rs.getString(3),
              new long[] {rs.getLong(4)});
          total += rs.getLong(4);
        }
      }
      connection.commit();
    }
    counts.clear();
    counts.putAll(inserted);
    lastCount = null;
    return total;
  }

  private void copyBatchInto(String table) throws SQLException {
    try {
      copy.copyIn(copySql(table), new java.io.ByteArrayInputStream(batch.array(), 0, batch.size()), 1 << 16);
    } catch (java.io.IOException e) {
      throw new SQLException("COPY into the destination failed: " + e.getMessage(), "08006", e);
    }
  }

  private void reportCounts() {
    for (Map.Entry<String, long[]> e : counts.entrySet()) {
      String[] key = e.getKey().split("\u0000", 3);
      listener.recorded(key[0], key[1], key[2], e.getValue()[0]);
    }
  }

  private void clear() {
    batch.reset();
    counts.clear();
    lastCount = null;
    rows = 0;
    pushedBytes = 0;
    streamFailure = null;
    streaming = null;
  }

  /** Drops a batch that could not be written (the source will send it again after reconnecting). */
  public void discard() {
    abandonCopy();
    try {
      connection.rollback();
    } catch (SQLException ignored) {
      // the connection is going away with the batch
    }
    clear();
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
