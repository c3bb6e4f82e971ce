package io.pgtrail.worker;

import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.PgConnections;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import org.postgresql.replication.LogSequenceNumber;

/** An in-process worker between two real databases, for tests. */
public final class WorkerHarness implements AutoCloseable {
  public final ConnectionSettings source;
  public final ConnectionSettings destination;
  public final WorkerMetrics metrics = new WorkerMetrics();
  public final Worker worker;
  private final Thread thread;

  public WorkerHarness(ConnectionSettings source, ConnectionSettings destination, String slot, ColumnFilter filter,
      int batchMaxRows) {
    this(source, destination, slot, filter, batchMaxRows, null);
  }

  /** A worker that reaches the source through an SSH jump host. */
  public WorkerHarness(ConnectionSettings source, ConnectionSettings destination, String slot, ColumnFilter filter,
      int batchMaxRows, io.pgtrail.ssh.SshTunnelSettings tunnel) {
    this.source = source;
    this.destination = destination;
    this.worker = new Worker(new Worker.Settings(source, destination, slot, "p", filter, batchMaxRows,
        Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(1), tunnel), metrics);
    this.thread = new Thread(worker, "worker-under-test");
    thread.start();
    await().atMost(Duration.ofSeconds(30)).until(worker::isStreaming);
  }

  public static long count(ConnectionSettings db, String sql) {
    try (Connection c = PgConnections.open(db); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      return -1;
    }
  }

  public long recorded() {
    return count(destination, "SELECT count(*) FROM changes");
  }

  public void awaitRecorded(long expected, Duration atMost) {
    await().atMost(atMost).pollInterval(Duration.ofMillis(100)).until(() -> recorded() >= expected);
  }

  /** The slot's confirmed_flush_lsn as a number. */
  public static long confirmedFlush(ConnectionSettings db, String slot) throws Exception {
    try (Connection c = PgConnections.open(db); var ps = c.prepareStatement(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? LogSequenceNumber.valueOf(rs.getString(1)).asLong() : 0;
      }
    }
  }

  public static long currentLsn(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db);
        ResultSet rs = c.createStatement().executeQuery("SELECT pg_current_wal_lsn()::text")) {
      rs.next();
      return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
    }
  }

  @Override
  public void close() throws InterruptedException {
    worker.requestStop();
    if (!worker.awaitStopped(Duration.ofSeconds(20))) {
      thread.interrupt();
    }
  }
}
