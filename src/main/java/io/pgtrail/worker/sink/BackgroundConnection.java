package io.pgtrail.worker.sink;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Background work on the destination beside the writer (GIN cleaner, store maintenance): one daemon thread
 * running a task on a schedule, and a connection of its own, opened on first use and again after a failure.
 */
public final class BackgroundConnection implements AutoCloseable {
  private final ConnectionSettings destination;
  private final ScheduledExecutorService scheduler;
  private Connection connection;

  public BackgroundConnection(ConnectionSettings destination, String threadName) {
    this.destination = destination;
    this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    });
  }

  /** Runs {@code task} after {@code initialMillis}, then {@code periodMillis} after each run ends. */
  public void schedule(Runnable task, long initialMillis, long periodMillis) {
    scheduler.scheduleWithFixedDelay(task, initialMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** The connection, opened if needed. */
  public synchronized Connection connection() throws SQLException, PgConnectException {
    if (connection == null || connection.isClosed()) {
      connection = PgConnections.open(destination);
    }
    return connection;
  }

  /** Closes the connection after a failure; the next use opens a new one. */
  public synchronized void reset() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // already gone
      }
      connection = null;
    }
  }

  /** No more runs after the current one (the task found it has nothing it may do). */
  public void stopScheduling() {
    scheduler.shutdown();
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    reset();
  }
}
