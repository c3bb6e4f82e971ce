package io.pgtrail.worker;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The worker's Prometheus metrics, in a registry of its own (tests and the bench run several workers). */
public final class WorkerMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();

  final Counter changesRecorded = Counter.builder()
      .name("pgtrail_worker_changes_recorded_total")
      .help("Row changes written to the destination changes table")
      .labelNames("table", "operation")
      .register(registry);
  final Histogram batchDuration = Histogram.builder()
      .name("pgtrail_worker_batch_duration_seconds")
      .help("Time to write and commit one batch into the destination")
      .classicUpperBounds(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
      .register(registry);
  final Gauge lagBytes = Gauge.builder()
      .name("pgtrail_worker_lag_bytes")
      .help("WAL bytes between the source's current position and what the worker has acknowledged")
      .register(registry);
  final Gauge lagSeconds = Gauge.builder()
      .name("pgtrail_worker_lag_seconds")
      .help("Time from the source commit of the newest recorded change to its destination commit; 0 when idle")
      .register(registry);
  final Counter reconnects = Counter.builder()
      .name("pgtrail_worker_reconnects_total")
      .help("Times the worker lost the source or the destination and reconnected")
      .register(registry);
  final Counter malformedContexts = Counter.builder()
      .name("pgtrail_worker_malformed_contexts_total")
      .help("Application context messages that were not a JSON object (kept as a string)")
      .register(registry);
  final Gauge acknowledgedLsn = Gauge.builder()
      .name("pgtrail_worker_acknowledged_lsn")
      .help("The WAL position acknowledged to the source slot (as a number)")
      .register(registry);

  final Counter errors = Counter.builder()
      .name("pgtrail_worker_errors_total")
      .help("Failures of the replication loop by class (ConnectionLost, Timeout, LockConflict, ResourcesExhausted,"
          + " RowRejected, DestinationMisconfigured; SourceConnectionLost, SourceTimeout, ..., SourceFailed; Gap)")
      .labelNames("class")
      .register(registry);
  final Gauge lastErrorTime = Gauge.builder()
      .name("pgtrail_worker_last_error_timestamp_seconds")
      .help("Unix time of the last failure of each class")
      .labelNames("class")
      .register(registry);
  final Gauge consecutiveFailures = Gauge.builder()
      .name("pgtrail_worker_consecutive_failures")
      .help("Failures since the acknowledged position last moved; 0 while the worker makes progress")
      .register(registry);
  final Counter fallbackChanges = Counter.builder()
      .name("pgtrail_worker_fallback_changes_total")
      .help("Changes the destination refused as they were and that were recorded in their documented fallback form")
      .register(registry);
  final Counter setAsideChanges = Counter.builder()
      .name("pgtrail_worker_set_aside_changes_total")
      .help("Changes the destination refused even in fallback form, kept in the pgtrail_dead_letter table")
      .register(registry);
  final Counter gapRecords = Counter.builder()
      .name("pgtrail_worker_gap_records_total")
      .help("Gap records written into changes (SlotMissing, SlotInvalidated, PositionJump, PublicationRecreated, TableNotPublished)")
      .labelNames("reason")
      .register(registry);

  /** Gauges read from the worker's status at scrape time. */
  void watch(WorkerStatus status, java.time.Duration stallAfter) {
    io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
        .name("pgtrail_worker_seconds_since_progress")
        .help("Seconds since the acknowledged position last moved (or the worker was last caught up)")
        .callback(cb -> cb.call(status.sinceProgress().toMillis() / 1000.0))
        .register(registry);
    io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
        .name("pgtrail_worker_ready")
        .help("1 when /readyz answers 200: streaming and acknowledging progress")
        .callback(cb -> cb.call(status.ready(stallAfter) ? 1 : 0))
        .register(registry);
    io.prometheus.metrics.core.metrics.GaugeWithCallback.builder()
        .name("pgtrail_worker_state")
        .help("1 for the worker's current state (starting, streaming, retrying, stalled, stopped)")
        .labelNames("state")
        .callback(cb -> {
          String current = status.snapshot(stallAfter).state();
          for (WorkerStatus.State s : WorkerStatus.State.values()) {
            cb.call(s.value().equals(current) ? 1 : 0, s.value());
          }
        })
        .register(registry);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public void recorded(String schema, String table, String operation, long count) {
    changesRecorded.labelValues(schema + "." + table, operation).inc(count);
  }
}
