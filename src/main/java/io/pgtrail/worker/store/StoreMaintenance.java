package io.pgtrail.worker.store;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.worker.sink.BackgroundConnection;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a partitioned {@code changes} in shape, on a connection of its own, at start and then every
 * {@code interval}: creates the partitions ahead of time, then applies the retention. Does nothing to an
 * unpartitioned table (see {@code pgtrail store convert}). A failure (a lock not granted within the timeout,
 * the destination away) is logged and counted, and tried again at the next run; writes never wait for it.
 */
public final class StoreMaintenance implements AutoCloseable {
  public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(15);
  private static final Logger LOG = LoggerFactory.getLogger(StoreMaintenance.class);

  private final StoreSettings settings;
  private final Clock clock;
  private final Counter partitionsCreated;
  private final Counter partitionsRemoved;
  private final Counter failures;
  private final BackgroundConnection background;

  public StoreMaintenance(ConnectionSettings destination, StoreSettings settings, Clock clock,
      PrometheusRegistry registry) {
    this.background = new BackgroundConnection(destination, "pgtrail-store-maintenance");
    this.settings = settings;
    this.clock = clock;
    this.partitionsCreated = Counter.builder()
        .name("pgtrail_worker_store_partitions_added_total")
        .help("Partitions of the changes table created ahead of time")
        .register(registry);
    this.partitionsRemoved = Counter.builder()
        .name("pgtrail_worker_store_partitions_removed_total")
        .help("Partitions of the changes table removed by retention (action: drop or detach)")
        .labelNames("action")
        .register(registry);
    this.failures = Counter.builder()
        .name("pgtrail_worker_store_maintenance_failures_total")
        .help("Store maintenance runs (partitions ahead, retention) that failed and will be tried again")
        .register(registry);
  }

  /** Runs now and then every {@code interval}, in the background. */
  public StoreMaintenance start(Duration interval) {
    background.schedule(this::runSafely, 0, interval.toMillis());
    return this;
  }

  private void runSafely() {
    try {
      runOnce();
    } catch (Exception e) {
      failures.inc();
      LOG.warn("store maintenance failed ({}: {}); trying again in the next run", e.getClass().getSimpleName(),
          e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse(""));
      background.reset();
    }
  }

  /** One run: partitions ahead, then retention. Returns what retention removed. */
  public synchronized List<Retention.Removed> runOnce() throws SQLException, PgConnectException {
    Connection connection = background.connection();
    if (!ChangesTable.isPartitioned(connection)) {
      return List.of();
    }
    if (settings.layout().partitioned()) {
      List<String> created = ChangesPartitions.ensureAhead(connection, settings.layout().period(), clock.instant(),
          settings.layout().periodsAhead());
      partitionsCreated.inc(created.size());
    }
    if (settings.retention() == null) {
      return List.of();
    }
    java.time.Instant now = clock.instant();
    List<Retention.Removed> removed = new java.util.ArrayList<>();
    for (ChangesPartitions.Partition p : Retention.expired(ChangesPartitions.list(connection), now,
        settings.retention())) {
      Retention.Removed r = Retention.remove(connection, p, now, settings.retentionMode());
      partitionsRemoved.labelValues(r.action().name().toLowerCase(Locale.ROOT)).inc();
      removed.add(r);
    }
    return removed;
  }

  @Override
  public void close() {
    background.close();
  }
}
