package io.pgtrail.operator;

import java.time.Duration;
import java.util.Set;

/**
 * How the operator process runs.
 *
 * @param watchNamespaces namespaces to watch; empty means all namespaces
 * @param leaderElection whether to hold a Lease before reconciling (on in clusters)
 * @param leaseName the Lease's name
 * @param leaseNamespace where the Lease lives (the operator's own namespace)
 * @param httpPort port of /healthz, /readyz and /metrics (0 picks a free one)
 * @param workerImage default image of the worker Deployments
 * @param resyncInterval how often healthy sources are re-checked
 * @param retryInterval how soon failing sources are retried
 * @param cleanupTimeout how long a failing database cleanup may block a deletion
 * @param reconcileThreads concurrent reconciliations
 * @param workerPodDefaults JSON of spec.worker pod settings every worker gets unless its source overrides them
 *     (the chart's worker.* values); empty for none
 * @param workerLogFormat log format of the workers (json or text; the chart's logFormat)
 * @param workerStallTimeout how long a slot's confirmed position may stand still, with WAL pending, before
 *     WorkerStreaming turns False
 */
public record OperatorOptions(
    Set<String> watchNamespaces,
    boolean leaderElection,
    String leaseName,
    String leaseNamespace,
    int httpPort,
    String workerImage,
    Duration resyncInterval,
    Duration retryInterval,
    Duration cleanupTimeout,
    int reconcileThreads,
    String workerPodDefaults,
    String workerLogFormat,
    Duration workerStallTimeout) {

  // The one home of the options' defaults. Text, because picocli's defaultValue (OperatorCommand) takes
  // constant strings; the chart's values.yaml and docs/install.md are checked against them (OperatorDefaultsTest).
  public static final String DEFAULT_LEADER_ELECTION = "true";
  public static final String DEFAULT_LEASE_NAME = "pgtrail-operator";
  public static final String DEFAULT_LEASE_NAMESPACE = "default";
  public static final String DEFAULT_HTTP_PORT = "8080";
  public static final String DEFAULT_RESYNC_INTERVAL = "PT60S";
  public static final String DEFAULT_RETRY_INTERVAL = "PT15S";
  public static final String DEFAULT_CLEANUP_TIMEOUT = "PT15M";
  public static final String DEFAULT_RECONCILE_THREADS = "10";
  public static final String DEFAULT_WORKER_LOG_FORMAT = "text";
  public static final String DEFAULT_WORKER_STALL_TIMEOUT = "PT5M";

  /** The image the chart installs by default, at this build's version: never a moving tag such as latest. */
  public static final String DEFAULT_IMAGE_REPOSITORY = "ghcr.io/pgtrail/pgtrail";

  public static String defaultWorkerImage() {
    return DEFAULT_IMAGE_REPOSITORY + ":" + io.pgtrail.BuildVersion.current().version();
  }

  /** What {@code pgtrail operator} runs with when given no options and no environment. */
  public static OperatorOptions defaults() {
    return new OperatorOptions(Set.of(), Boolean.parseBoolean(DEFAULT_LEADER_ELECTION), DEFAULT_LEASE_NAME,
        DEFAULT_LEASE_NAMESPACE, Integer.parseInt(DEFAULT_HTTP_PORT), defaultWorkerImage(),
        Duration.parse(DEFAULT_RESYNC_INTERVAL), Duration.parse(DEFAULT_RETRY_INTERVAL),
        Duration.parse(DEFAULT_CLEANUP_TIMEOUT), Integer.parseInt(DEFAULT_RECONCILE_THREADS), "",
        DEFAULT_WORKER_LOG_FORMAT, Duration.parse(DEFAULT_WORKER_STALL_TIMEOUT));
  }

  public OperatorOptions withWatchNamespaces(Set<String> namespaces) {
    return new OperatorOptions(Set.copyOf(namespaces), leaderElection, leaseName, leaseNamespace, httpPort,
        workerImage, resyncInterval, retryInterval, cleanupTimeout, reconcileThreads,
        workerPodDefaults, workerLogFormat, workerStallTimeout);
  }

  public OperatorOptions withLeaderElection(boolean enabled, String namespace) {
    return new OperatorOptions(watchNamespaces, enabled, leaseName, namespace, httpPort, workerImage,
        resyncInterval, retryInterval, cleanupTimeout, reconcileThreads,
        workerPodDefaults, workerLogFormat, workerStallTimeout);
  }

  public OperatorOptions withHttpPort(int port) {
    return new OperatorOptions(watchNamespaces, leaderElection, leaseName, leaseNamespace, port, workerImage,
        resyncInterval, retryInterval, cleanupTimeout, reconcileThreads,
        workerPodDefaults, workerLogFormat, workerStallTimeout);
  }

  public OperatorOptions withIntervals(Duration resync, Duration retry, Duration cleanup) {
    return new OperatorOptions(watchNamespaces, leaderElection, leaseName, leaseNamespace, httpPort, workerImage,
        resync, retry, cleanup, reconcileThreads,
        workerPodDefaults, workerLogFormat, workerStallTimeout);
  }

  public OperatorOptions withWorkerImage(String image) {
    return new OperatorOptions(watchNamespaces, leaderElection, leaseName, leaseNamespace, httpPort, image,
        resyncInterval, retryInterval, cleanupTimeout, reconcileThreads,
        workerPodDefaults, workerLogFormat, workerStallTimeout);
  }

  public OperatorOptions withReconcileThreads(int threads) {
    return new OperatorOptions(watchNamespaces, leaderElection, leaseName, leaseNamespace, httpPort, workerImage,
        resyncInterval, retryInterval, cleanupTimeout, threads,
        workerPodDefaults, workerLogFormat, workerStallTimeout);
  }

  public OperatorOptions withWorkerDefaults(String podDefaultsJson, String logFormat) {
    return new OperatorOptions(watchNamespaces, leaderElection, leaseName, leaseNamespace, httpPort, workerImage,
        resyncInterval, retryInterval, cleanupTimeout, reconcileThreads, podDefaultsJson, logFormat, workerStallTimeout);
  }

  public OperatorOptions withWorkerStallTimeout(Duration timeout) {
    return new OperatorOptions(watchNamespaces, leaderElection, leaseName, leaseNamespace, httpPort, workerImage,
        resyncInterval, retryInterval, cleanupTimeout, reconcileThreads, workerPodDefaults, workerLogFormat, timeout);
  }
}
