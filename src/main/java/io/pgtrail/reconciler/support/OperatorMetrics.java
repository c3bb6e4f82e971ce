package io.pgtrail.reconciler.support;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/** The operator's own Prometheus metrics (the JVM's are registered by the operator process). */
public final class OperatorMetrics {
  private final Counter reconciliations;
  private final Histogram duration;
  private final Gauge sourceReady;
  private final Gauge retainedWal;
  private final Gauge workerStreaming;

  public OperatorMetrics(PrometheusRegistry registry) {
    reconciliations = Counter.builder().name("pgtrail_operator_reconciliations_total")
        .help("Reconciliations run, by controller").labelNames("controller").register(registry);
    duration = Histogram.builder().name("pgtrail_operator_reconcile_duration_seconds")
        .help("Time one reconciliation takes, by controller").labelNames("controller").register(registry);
    sourceReady = Gauge.builder().name("pgtrail_source_ready")
        .help("1 when the SourceDatabase is Ready, else 0").labelNames("namespace", "name").register(registry);
    retainedWal = Gauge.builder().name("pgtrail_source_slot_retained_wal_bytes")
        .help("WAL the source's replication slot retains, as the operator last read it")
        .labelNames("namespace", "name").register(registry);
    workerStreaming = Gauge.builder().name("pgtrail_source_worker_streaming")
        .help("1 when WorkerStreaming is True, 0 when False, -1 when Unknown (no report yet)")
        .labelNames("namespace", "name").register(registry);
  }

  /** Facts observed by a reconcile: retained WAL (null: not read) and the WorkerStreaming status. */
  public void sourceFacts(String namespace, String name, Long retainedWalBytes, String workerStreamingStatus) {
    if (retainedWalBytes != null) {
      retainedWal.labelValues(namespace, name).set(retainedWalBytes);
    }
    workerStreaming.labelValues(namespace, name).set(switch (workerStreamingStatus) {
      case "True" -> 1;
      case "False" -> 0;
      default -> -1;
    });
  }

  public void reconciled(String controller, long nanos) {
    reconciliations.labelValues(controller).inc();
    duration.labelValues(controller).observe(nanos / 1e9);
  }

  public void sourceReady(String namespace, String name, boolean ready) {
    sourceReady.labelValues(namespace, name).set(ready ? 1 : 0);
  }

  public void forgetSource(String namespace, String name) {
    sourceReady.remove(namespace, name);
    retainedWal.remove(namespace, name);
    workerStreaming.remove(namespace, name);
  }
}
