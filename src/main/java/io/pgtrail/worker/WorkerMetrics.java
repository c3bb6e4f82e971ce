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

  public PrometheusRegistry registry() {
    return registry;
  }

  public void recorded(String schema, String table, String operation, long count) {
    changesRecorded.labelValues(schema + "." + table, operation).inc(count);
  }
}
