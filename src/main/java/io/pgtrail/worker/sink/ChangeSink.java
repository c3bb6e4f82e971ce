package io.pgtrail.worker.sink;

import io.pgtrail.worker.Change;
import io.pgtrail.worker.KeyDeclaration;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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
  private static final int HUGE_CHANGE_CHARS = 1 << 20;
  private static final long NO_PROGRESS = Long.MIN_VALUE;

  /** Told about each (schema.table, operation) count once its batch is committed. */
  @FunctionalInterface
  public interface RecordedListener {
    void recorded(String schema, String table, String operation, long count);
  }

  /** Told about each change the destination refused as it was, once its batch is committed. */
  @FunctionalInterface
  public interface RejectedListener {
    void rejected(Change change, String sqlState, boolean setAside);
  }

  /** What one flush did: rows in the batch, rows inserted as they were, and the isolated ones. */
  public record FlushResult(int rows, int inserted, boolean absorbedReplays, int fallbacks, int setAside) {}

  private final Connection connection;
  private final CopyManager copy;
  private final RecordedListener listener;
  private final RejectedListener rejectedListener;
  private final String slot;
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
  /** Key declarations read since the last commit; written with the next batch or acknowledgement. */
  private final List<KeyDeclaration> declarations = new ArrayList<>();

  /**
   * A sink for the worker of replication slot {@code slot}: creates {@code changes}, {@code pgtrail_progress},
   * {@code pgtrail_dead_letter} and {@code pgtrail_keys} when absent and registers the slot's progress row.
   */
  public ChangeSink(Connection destination, String slot, RecordedListener listener, RejectedListener rejected)
      throws SQLException {
    this.connection = destination;
    this.copy = destination.unwrap(PGConnection.class).getCopyAPI();
    this.listener = listener;
    this.rejectedListener = rejected;
    this.slot = slot;
    ChangesTable.ensure(destination);
    try (Statement s = destination.createStatement()) {
      // the slot is acknowledged after this commit: it must survive a destination crash
      s.execute("SET synchronous_commit = on");
    }
    destination.setAutoCommit(false);
    try (Statement s = destination.createStatement()) {
      s.execute("SELECT pg_advisory_xact_lock(hashtext('pgtrail.progress'))");
      ProgressTable.ensure(s);
      DeadLetterTable.ensure(s);
      KeysTable.ensure(s);
      ProgressTable.register(destination, slot);
      destination.commit();
    } catch (SQLException e) {
      destination.rollback();
      throw e;
    }
  }

  /** The destination connection, for progress and gap writes between batches (never during one). */
  public Connection connection() {
    return connection;
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
    reserveForHugeValues(change);
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

  /**
   * A primary key the stream declared: written into {@code pgtrail_keys} in the transaction of the next batch
   * or {@link #acknowledge}, so it is durable no later than the position of its transaction is acknowledged.
   */
  public void declared(KeyDeclaration declaration) {
    declarations.add(declaration);
  }

  public int pendingDeclarations() {
    return declarations.size();
  }

  /**
   * Records an acknowledged position between batches (nothing pending), with the key declarations read since
   * the last commit, and commits.
   */
  public void acknowledge(long acknowledgeLsn, long lastCommitUnixMicros) throws SQLException {
    if (rows > 0) {
      throw new IllegalStateException("a position is acknowledged with its batch while rows are pending");
    }
    try {
      writeDeclarations();
      ProgressTable.acknowledge(connection, slot, acknowledgeLsn, lastCommitUnixMicros, 0, 0);
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    }
    declarations.clear();
  }

  /** Nothing when no table was created or altered since the last commit: the common path pays no statement. */
  private void writeDeclarations() throws SQLException {
    if (!declarations.isEmpty()) {
      KeysTable.record(connection, slot, declarations);
    }
  }

  /** A change with megabytes of values: the buffer grows once, to its exact size. */
  private void reserveForHugeValues(Change change) {
    long chars = (long) change.before().length() + change.after().length() + change.context().length();
    if (chars > HUGE_CHANGE_CHARS) {
      batch.reserve(1024 + CopyBinaryBuffer.utf8Length(change.before()) + CopyBinaryBuffer.utf8Length(change.after())
          + CopyBinaryBuffer.utf8Length(change.context())
          + (change.primaryKey() == null ? 0 : CopyBinaryBuffer.utf8Length(change.primaryKey())));
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
    return "COPY " + table + " (" + ChangesTable.copyColumnList() + ") FROM STDIN (FORMAT binary)";
  }

  /**
   * Writes and commits everything added since the last flush, with the position it lets the worker
   * acknowledge ({@code pgtrail_progress} is updated in the same transaction). A batch the destination
   * refuses because of some of its rows is split until those rows are found; each is recorded in its
   * fallback form or set aside, and the rest is written. Other failures are thrown, the batch kept for
   * {@link #discard()}.
   */
  public FlushResult flush(long acknowledgeLsn, long lastCommitUnixMicros) throws SQLException {
    return flush(acknowledgeLsn, lastCommitUnixMicros, true);
  }

  /**
   * As {@link #flush(long, long)}; with {@code recordProgress} false the batch leaves pgtrail_progress alone
   * (the caller then must not confirm its position to the slot before recording it), unless refused changes
   * were isolated: their counters are always written with them.
   */
  public FlushResult flush(long acknowledgeLsn, long lastCommitUnixMicros, boolean recordProgress)
      throws SQLException {
    if (rows == 0) {
      return new FlushResult(0, 0, false, 0, 0);
    }
    batch.finish();
    int inserted;
    boolean absorbed = absorbing;
    Isolation isolation = null;
    try {
      long progress = recordProgress ? acknowledgeLsn : NO_PROGRESS;
      inserted = absorbing ? writeThroughStaging(progress, lastCommitUnixMicros)
          : writeDirect(progress, lastCommitUnixMicros);
    } catch (SQLException e) {
      abandonCopy();
      connection.rollback();
      SQLException failure = e;
      if (isUniqueViolation(e)) {
        absorbing = true;
        absorbed = true;
        LOG.info("the destination already holds part of this batch (a replay after a restart);"
            + " writing through the staging table until replays stop");
        try {
          failure = null;
          inserted = writeThroughStaging(recordProgress ? acknowledgeLsn : NO_PROGRESS, lastCommitUnixMicros);
        } catch (SQLException again) {
          connection.rollback();
          failure = again;
          inserted = 0;
        }
      } else {
        inserted = 0;
      }
      if (failure != null) {
        if (!FailureClass.of(failure).isRowCaused()) {
          throw failure;
        }
        isolation = new Isolation();
        try {
          isolation.run(failure, acknowledgeLsn, lastCommitUnixMicros);
        } catch (SQLException isolationFailure) {
          connection.rollback();
          throw isolationFailure;
        }
        inserted = isolation.inserted;
      }
    }
    if (absorbed && inserted == rows) {
      absorbing = false;
    }
    lastCommitNanos = System.nanoTime();
    FlushResult result = new FlushResult(rows, inserted, absorbed, isolation == null ? 0 : isolation.fallbacks,
        isolation == null ? 0 : isolation.setAside);
    reportCounts();
    if (isolation != null) {
      isolation.report();
    }
    clear();
    return result;
  }

  private int writeDirect(long acknowledgeLsn, long lastCommitUnixMicros) throws SQLException {
    push();
    if (streamFailure != null) {
      throw streamFailure;
    }
    streaming.endCopy();
    streaming = null;
    recordProgress(acknowledgeLsn, lastCommitUnixMicros);
    writeDeclarations();
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
  private int writeThroughStaging(long acknowledgeLsn, long lastCommitUnixMicros) throws SQLException {
    Map<String, long[]> inserted = new HashMap<>();
    createStaging();
    int total = insertThroughStaging(0, rows, inserted);
    recordProgress(acknowledgeLsn, lastCommitUnixMicros);
    writeDeclarations();
    connection.commit();
    replaceCounts(inserted);
    return total;
  }

  /** {@link #NO_PROGRESS}: this batch leaves the progress row alone. */
  private void recordProgress(long acknowledgeLsn, long lastCommitUnixMicros) throws SQLException {
    if (acknowledgeLsn != NO_PROGRESS) {
      ProgressTable.acknowledge(connection, slot, acknowledgeLsn, lastCommitUnixMicros, 0, 0);
    }
  }

  private void createStaging() throws SQLException {
    try (Statement s = connection.createStatement()) {
      s.execute("CREATE TEMP TABLE IF NOT EXISTS " + STAGING + " (LIKE " + ChangesTable.NAME
          + " INCLUDING DEFAULTS) ON COMMIT DELETE ROWS");
    }
  }

  /** Rows {@code [from, to)} into {@code changes} through the staging table, replays skipped; adds to {@code inserted}. */
  private int insertThroughStaging(int from, int to, Map<String, long[]> inserted) throws SQLException {
    int total = 0;
    try (Statement s = connection.createStatement()) {
      try {
        copy.copyIn(copySql(STAGING), batch.copyStream(from, to), 1 << 16);
      } catch (java.io.IOException e) {
        throw new SQLException("COPY into the destination failed: " + e.getMessage(), "08006", e);
      }
      try (ResultSet rs = s.executeQuery("WITH inserted AS (INSERT INTO " + ChangesTable.NAME
          + " (" + ChangesTable.copyColumnList() + ") SELECT " + ChangesTable.copyColumnList() + " FROM " + STAGING
          // no conflict target: the replay key differs between a partitioned and a plain (Bemi) table
          + " ON CONFLICT DO NOTHING RETURNING \"schema\", \"table\", operation)"
          + " SELECT \"schema\", \"table\", operation, count(*) FROM inserted GROUP BY 1, 2, 3")) {
        while (rs.next()) {
          inserted.computeIfAbsent(rs.getString(1) + '\u0000' + rs.getString(2) + '\u0000' + rs.getString(3),
              k -> new long[1])[0] += rs.getLong(4);
          total += rs.getLong(4);
        }
      }
      s.execute("TRUNCATE " + STAGING);
    }
    return total;
  }

  private void replaceCounts(Map<String, long[]> inserted) {
    counts.clear();
    counts.putAll(inserted);
    lastCount = null;
  }

  /**
   * The rare path: one transaction in which the batch is bisected under savepoints until each refused
   * change is alone; each is then written in its fallback form, or set aside in the dead-letter table.
   * About 2 log2(n) COPYs per refused change; the accepted rows are written once.
   */
  private record Rejected(Change change, String sqlState, boolean setAside) {}

  private final class Isolation {
    private final Map<String, long[]> insertedCounts = new HashMap<>();
    private final List<Rejected> rejected = new ArrayList<>();
    int inserted;
    int fallbacks;
    int setAside;
    private int savepoints;

    void run(SQLException firstFailure, long acknowledgeLsn, long lastCommitUnixMicros) throws SQLException {
      createStaging();
      writeRange(0, rows, firstFailure);
      ProgressTable.acknowledge(connection, slot, acknowledgeLsn, lastCommitUnixMicros, fallbacks, setAside);
      writeDeclarations();
      connection.commit();
      replaceCounts(insertedCounts);
    }

    /** {@code knownFailure}: the range is known to fail (the whole batch did), so it is split right away. */
    private void writeRange(int from, int to, SQLException knownFailure) throws SQLException {
      SQLException failure = knownFailure;
      if (failure == null) {
        Savepoint sp = connection.setSavepoint("pgtrail_range_" + savepoints++);
        try {
          inserted += insertThroughStaging(from, to, insertedCounts);
          connection.releaseSavepoint(sp);
          return;
        } catch (SQLException e) {
          connection.rollback(sp);
          if (!FailureClass.of(e).isRowCaused()) {
            throw e;
          }
          failure = e;
        }
      }
      if (to - from == 1) {
        recordRejected(from, failure);
        return;
      }
      int middle = (from + to) >>> 1;
      writeRange(from, middle, null);
      writeRange(middle, to, null);
    }

    private void recordRejected(int row, SQLException failure) throws SQLException {
      Change change = decode(row);
      String sqlState = FailureClass.sqlState(failure);
      Change fallback = FallbackForm.of(change, sqlState);
      if (fallback != null) {
        Savepoint sp = connection.setSavepoint("pgtrail_fallback_" + savepoints++);
        try {
          boolean fresh = insertOne(fallback);
          connection.releaseSavepoint(sp);
          if (fresh) { // not a replay of one recorded before a restart
            count(insertedCounts, fallback);
            inserted++;
            fallbacks++;
            rejected.add(new Rejected(fallback, sqlState, false));
          }
          return;
        } catch (SQLException e) {
          connection.rollback(sp);
          if (!FailureClass.of(e).isRowCaused()) {
            throw e;
          }
        }
      }
      if (DeadLetterTable.setAside(connection, slot, change, sqlState, failure.getMessage())) {
        setAside++;
        rejected.add(new Rejected(change, sqlState, true));
      }
    }

    void report() {
      if (rejectedListener != null) {
        for (Rejected r : rejected) {
          rejectedListener.rejected(r.change(), r.sqlState(), r.setAside());
        }
      }
    }
  }

  private static void count(Map<String, long[]> counts, Change change) {
    counts.computeIfAbsent(change.schema() + '\u0000' + change.table() + '\u0000' + change.operation().name(),
        k -> new long[1])[0]++;
  }

  /** Inserts one change with bound values (the fallback path); false when it was already there (a replay). */
  private boolean insertOne(Change c) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + ChangesTable.NAME + " ("
        + ChangesTable.columnList() + ") VALUES (?, ?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?, ?, ?, ?)"
        + " ON CONFLICT DO NOTHING")) { // no target: the replay key of a partitioned table has committed_at too
      ps.setString(1, c.database());
      ps.setString(2, c.schema());
      ps.setString(3, c.table());
      ps.setString(4, c.primaryKey());
      ps.setString(5, c.operation().name());
      ps.setString(6, c.before());
      ps.setString(7, c.after());
      ps.setString(8, c.context());
      ps.setTimestamp(9, ProgressTable.timestamp(c.committedAtMicros()));
      ps.setTimestamp(10, ProgressTable.timestamp(c.queuedAtMicros()));
      ps.setLong(11, c.transactionId());
      ps.setLong(12, c.position());
      return ps.executeUpdate() == 1;
    }
  }

  /** Row {@code row} of the batch back as a change (its fields in {@link ChangesTable#WRITTEN_COLUMNS} order). */
  private Change decode(int row) {
    byte[][] f = batch.fields(row);
    // f[0] is the id
    return new Change(text(f[1]), text(f[2]), text(f[3]), text(f[4]), Change.Operation.valueOf(text(f[5])),
        jsonb(f[6]), jsonb(f[7]), jsonb(f[8]), unixMicros(f[9]), unixMicros(f[10]), int8(f[11]), int8(f[12]));
  }

  private static String text(byte[] field) {
    return field == null ? null : new String(field, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static String jsonb(byte[] field) {
    return field == null ? null
        : new String(field, 1, field.length - 1, java.nio.charset.StandardCharsets.UTF_8);
  }

  private static long int8(byte[] field) {
    return java.nio.ByteBuffer.wrap(field).getLong();
  }

  private static long unixMicros(byte[] field) {
    return int8(field) + PgOutputMessage.POSTGRES_EPOCH_OFFSET_MICROS;
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
    declarations.clear();
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
