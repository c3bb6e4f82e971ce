package io.pgtrail.worker;

import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.ssh.SshTunnelSettings;
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

  private final String slot;
  private final boolean dropSlotOnClose;

  public WorkerHarness(ConnectionSettings source, ConnectionSettings destination, String slot, ColumnFilter filter,
      int batchMaxRows) {
    this(source, destination, slot, filter, batchMaxRows, null);
  }

  /** A worker that reaches the source through an SSH jump host. */
  public WorkerHarness(ConnectionSettings source, ConnectionSettings destination, String slot, ColumnFilter filter,
      int batchMaxRows, SshTunnelSettings tunnel) {
    this(settings(source, destination, slot, filter, batchMaxRows, tunnel), true, true);
  }

  /**
   * A worker with any settings; {@code awaitStreaming} waits until it streams, {@code dropSlotOnClose}
   * drops its slot when it has stopped (tests that restart workers on one slot keep it).
   */
  public WorkerHarness(Worker.Settings settings, boolean awaitStreaming, boolean dropSlotOnClose) {
    this.slot = settings.slot();
    this.source = settings.source();
    this.destination = settings.destination();
    this.dropSlotOnClose = dropSlotOnClose;
    this.worker = new Worker(settings, metrics);
    this.thread = new Thread(worker, "worker-under-test");
    thread.start();
    if (awaitStreaming) {
      await().atMost(Duration.ofSeconds(30)).until(worker::isStreaming);
    }
  }

  /** The settings tests use: publication p, short delays. */
  public static Worker.Settings settings(ConnectionSettings source, ConnectionSettings destination, String slot,
      ColumnFilter filter, int batchMaxRows, SshTunnelSettings tunnel) {
    return new Worker.Settings(source, destination, slot, "p", filter, batchMaxRows,
        Duration.ofMillis(100), Duration.ofMillis(100), Duration.ofSeconds(1), tunnel);
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

  /** The slot's confirmed_flush_lsn as a number; 0 when there is none (yet). */
  public static long confirmedFlush(ConnectionSettings db, String slot) throws Exception {
    try (Connection c = PgConnections.open(db); var ps = c.prepareStatement(
        "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        // a slot still being created (PostgreSQL 14 shows it before its first position) counts as 0
        return rs.next() && rs.getString(1) != null ? LogSequenceNumber.valueOf(rs.getString(1)).asLong() : 0;
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

  /** Drops a test's slot once its reader is gone, so it does not hold WAL on a shared server. */
  public static void dropSlot(ConnectionSettings db, String slot) {
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
      try (Connection c = PgConnections.open(db)) {
        ReplicationSlots.dropIfExists(c, slot);
        return true;
      }
    });
  }

  @Override
  public void close() throws InterruptedException {
    worker.requestStop();
    if (!worker.awaitStopped(Duration.ofSeconds(20))) {
      thread.interrupt();
    }
    if (worker.awaitStopped(Duration.ofSeconds(5)) && dropSlotOnClose) {
      dropSlot(source, slot);
    }
  }
}
