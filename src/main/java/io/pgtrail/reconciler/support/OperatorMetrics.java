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

  public OperatorMetrics(PrometheusRegistry registry) {
    reconciliations = Counter.builder().name("pgtrail_operator_reconciliations_total")
        .help("Reconciliations run, by controller").labelNames("controller").register(registry);
    duration = Histogram.builder().name("pgtrail_operator_reconcile_duration_seconds")
        .help("Time one reconciliation takes, by controller").labelNames("controller").register(registry);
    sourceReady = Gauge.builder().name("pgtrail_source_ready")
        .help("1 when the SourceDatabase is Ready, else 0").labelNames("namespace", "name").register(registry);
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
  }
}
