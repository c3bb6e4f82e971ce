package io.pgtrail.operator;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.Cloner;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfigurationBuilder;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrail.api.v1alpha1.LenientSpec;
import io.pgtrail.api.v1alpha1.WorkerSpec;
import io.pgtrail.observe.HealthServer;
import io.pgtrail.observe.Probe;
import io.pgtrail.reconciler.sourcedatabase.SourceDatabaseReconciler;
import io.pgtrail.reconciler.support.OperatorMetrics;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import io.pgtrail.reconciler.trackingpolicy.TrackingPolicyReconciler;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator process: JOSDK with both server-side-apply switches off (one code path for real clusters
 * and the mock API server), optional Lease-based leader election, the two reconcilers, and an HTTP
 * endpoint for health and Prometheus metrics.
 */
public final class PgtrailOperator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgtrailOperator.class);

  private final Operator operator;
  private final HealthServer http;
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final AtomicBoolean leading = new AtomicBoolean();
  private final SourceDatabaseReconciler sources;

  public PgtrailOperator(KubernetesClient client, OperatorOptions options) throws IOException {
    leading.set(!options.leaderElection());
    JvmMetrics.builder().register(registry);
    OperatorMetrics metrics = new OperatorMetrics(registry);
    ReconcilerSettings settings = new ReconcilerSettings(options.workerImage(), options.resyncInterval(),
        options.retryInterval(), options.cleanupTimeout(), 5, Clock.systemUTC(),
        workerPodDefaults(options.workerPodDefaults()), options.workerLogFormat(), options.workerStallTimeout());
    this.operator = new Operator(o -> {
      o.withKubernetesClient(client)
          .withUseSSAToPatchPrimaryResource(false)
          .withSSABasedCreateUpdateMatchForDependentResources(false)
          .withCloseClientOnStop(false)
          // JOSDK hands each reconcile a serialized copy; undecodable fields are reported from the copy too
          .withResourceCloner(new Cloner() {
            @Override
            public <R extends HasMetadata> R clone(R object) {
              return LenientSpec.keepProblems(object, client.getKubernetesSerialization().clone(object));
            }
          })
          .withMetrics(josdkMetrics(registry))
          .withConcurrentReconciliationThreads(options.reconcileThreads())
          .withReconciliationTerminationTimeout(Duration.ofSeconds(20));
      if (options.leaderElection()) {
        o.withLeaderElectionConfiguration(LeaderElectionConfigurationBuilder
            .aLeaderElectionConfiguration(options.leaseName())
            .withLeaseNamespace(options.leaseNamespace())
            .withExitOnStopLeading(false)
            .withLeaderCallbacks(new LeaderCallbacks(() -> leading.set(true), () -> leading.set(false), leader -> { }))
            .build());
      }
    });
    Set<String> namespaces = options.watchNamespaces();
    this.sources = new SourceDatabaseReconciler(client, settings, metrics);
    operator.register(sources, c -> {
      if (!namespaces.isEmpty()) {
        c.settingNamespaces(namespaces);
      }
      c.withReconciliationMaxInterval(options.resyncInterval());
    });
    operator.register(new TrackingPolicyReconciler(client, settings, metrics), c -> {
      if (!namespaces.isEmpty()) {
        c.settingNamespaces(namespaces);
      }
      c.withReconciliationMaxInterval(options.resyncInterval());
    });
    this.http = new HealthServer(options.httpPort(), registry, () -> Probe.ok("ok"), this::readiness);
  }

  /**
   * Ready once the controllers run with healthy event sources. A standby replica (not holding the Lease) is
   * ready too: it must not block a rolling update of the operator, whose old replica only lets the Lease go
   * when it stops.
   */
  /** What {@code /readyz} answers: ready when leading with every event source healthy, or standing by. */
  public Probe readiness() {
    if (!leading.get()) {
      return Probe.ok("ready (standby: another replica holds the leader Lease)");
    }
    var info = operator.getRuntimeInfo();
    if (info.isStarted() && info.allEventSourcesAreHealthy()) {
      return Probe.ok("ready");
    }
    return Probe.failing("not ready: " + (info.isStarted()
        ? "unhealthy event sources " + info.unhealthyEventSources().keySet()
        : "operator not started (waiting for the leader lease?)"));
  }

  /**
   * JOSDK's own metrics (reconciliations started, succeeded, failed and retried, events received, queue and
   * executing gauges, reconcile timings) through its Micrometer bridge, whose Prometheus meter registry writes
   * into the operator's registry: one {@code /metrics} for both. Aggregated per resource kind, not per
   * resource (the {@code pgtrail_source_*} gauges carry the per-source facts).
   */
  private static MicrometerMetrics josdkMetrics(PrometheusRegistry registry) {
    var meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT, registry, io.micrometer.core.instrument.Clock.SYSTEM);
    return MicrometerMetrics.withoutPerResourceMetrics(meters);
  }

  /** The chart's worker pod defaults; a value that is not a spec.worker object stops the start with a clear line. */
  static WorkerSpec workerPodDefaults(String json) {
    if (json == null || json.isBlank()) {
      return new WorkerSpec();
    }
    try {
      return Serialization.jsonMapper().readValue(json, WorkerSpec.class);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalArgumentException("worker pod defaults (PGTRAIL_WORKER_POD_DEFAULTS) are not a valid"
          + " spec.worker object: " + e.getOriginalMessage(), e);
    }
  }

  public PgtrailOperator start() {
    http.start();
    operator.start();
    LOG.info("pgtrail operator started; health and metrics on port {}", http.port());
    return this;
  }

  public int httpPort() {
    return http.port();
  }

  /** True while this replica holds the leader Lease (always, without leader election). */
  public boolean isLeading() {
    return leading.get();
  }

  /** Stops reconciling (letting running reconciliations finish) and the HTTP endpoint. */
  @Override
  public void close() {
    LOG.info("pgtrail operator stopping");
    try {
      operator.stop();
    } finally {
      sources.close();
      http.close();
    }
  }
}
