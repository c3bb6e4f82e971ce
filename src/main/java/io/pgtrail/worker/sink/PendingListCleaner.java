package io.pgtrail.worker.sink;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.PgConnections;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empties the GIN pending lists of the {@code changes} indexes every second, on a connection of its own.
 * Otherwise the writer that finds a list full (4 MB by default) merges it inline, which stalls that
 * batch for hundreds of milliseconds; writers skip the merge while this one runs. Needs ownership of
 * the table (the worker creates it); without it the cleaner stops and the server's default applies.
 */
public final class PendingListCleaner implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PendingListCleaner.class);
  private static final List<String> GIN_INDEXES =
      List.of("changes_before_index", "changes_after_index", "changes_context_index");

  private final ConnectionSettings destination;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "pgtrail-gin-cleaner");
    t.setDaemon(true);
    return t;
  });
  private Connection connection;

  public PendingListCleaner(ConnectionSettings destination, Duration interval) {
    this.destination = destination;
    scheduler.scheduleWithFixedDelay(this::cleanSafely, interval.toMillis(), interval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void cleanSafely() {
    try {
      clean();
    } catch (SQLException e) {
      if ("42501".equals(e.getSQLState())) {
        LOG.info("not allowed to clean the GIN pending lists of changes (not its owner); writers will do it");
        scheduler.shutdown();
      } else {
        LOG.debug("GIN pending list cleanup failed: {}", e.getMessage());
      }
      closeConnection();
    } catch (Exception e) {
      LOG.debug("GIN pending list cleanup failed: {}", e.getMessage());
      closeConnection();
    }
  }

  private void clean() throws Exception {
    if (connection == null) {
      connection = PgConnections.open(destination);
    }
    try (PreparedStatement ps = connection.prepareStatement(
        "SELECT gin_clean_pending_list(c.oid) FROM pg_class c WHERE c.relname = ? AND c.relkind = 'i'"
            + " AND pg_table_is_visible(c.oid)")) {
      for (String index : GIN_INDEXES) {
        ps.setString(1, index);
        ps.execute();
      }
    }
  }

  private void closeConnection() {
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException ignored) {
        // already gone
      }
      connection = null;
    }
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeConnection();
  }
}
