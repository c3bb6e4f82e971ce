package io.pgtrail.operator;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pgtrail operator}: runs the operator against the in-cluster config or the kubeconfig. */
@Command(name = "operator", mixinStandardHelpOptions = true,
    description = "Run the Kubernetes operator (in-cluster config, or KUBECONFIG / ~/.kube/config).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped on request (SIGTERM/SIGINT)", "1:failed while running",
        "2:wrong usage, or the Kubernetes API server is unreachable or refuses the credentials"})
public final class OperatorCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(OperatorCommand.class);

  @Spec CommandSpec spec;

  @Option(names = "--watch-namespaces", defaultValue = "${env:PGTRAIL_WATCH_NAMESPACES:-}",
      description = "Comma-separated namespaces to watch; empty watches all (env PGTRAIL_WATCH_NAMESPACES).")
  String watchNamespaces;

  @Option(names = "--leader-election", arity = "1",
      defaultValue = "${env:PGTRAIL_LEADER_ELECTION:-" + OperatorOptions.DEFAULT_LEADER_ELECTION + "}",
      description = "Hold a Lease before reconciling, so only one replica acts (default ${DEFAULT-VALUE}).")
  boolean leaderElection;

  @Option(names = "--lease-namespace",
      defaultValue = "${env:PGTRAIL_LEADER_ELECTION_NAMESPACE:-${env:POD_NAMESPACE:-"
          + OperatorOptions.DEFAULT_LEASE_NAMESPACE + "}}",
      description = "Namespace of the leader Lease (env PGTRAIL_LEADER_ELECTION_NAMESPACE or POD_NAMESPACE;"
          + " now ${DEFAULT-VALUE}).")
  String leaseNamespace;

  @Option(names = "--http-port", defaultValue = "${env:PGTRAIL_METRICS_PORT:-${env:PGTRAIL_HTTP_PORT:-"
      + OperatorOptions.DEFAULT_HTTP_PORT + "}}",
      description = "Port for /healthz, /readyz and /metrics (env PGTRAIL_METRICS_PORT; now ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--worker-image", defaultValue = "${env:PGTRAIL_WORKER_IMAGE}",
      description = "Default image of worker Deployments (env PGTRAIL_WORKER_IMAGE; else this build's own version,"
          + " never latest).")
  String workerImage;

  @Option(names = "--resync", defaultValue = OperatorOptions.DEFAULT_RESYNC_INTERVAL,
      description = "Re-check interval of healthy sources (ISO-8601).")
  Duration resync;

  @Option(names = "--retry", defaultValue = OperatorOptions.DEFAULT_RETRY_INTERVAL,
      description = "Retry interval of failing sources (ISO-8601).")
  Duration retry;

  @Option(names = "--cleanup-timeout", defaultValue = OperatorOptions.DEFAULT_CLEANUP_TIMEOUT,
      description = "How long a failing database cleanup may block a SourceDatabase deletion (ISO-8601).")
  Duration cleanupTimeout;

  @Option(names = "--reconcile-threads", defaultValue = OperatorOptions.DEFAULT_RECONCILE_THREADS,
      description = "Concurrent reconciliations.")
  int reconcileThreads;

  @Option(names = "--worker-pod-defaults", defaultValue = "${env:PGTRAIL_WORKER_POD_DEFAULTS:-}",
      description = "JSON of spec.worker pod settings (imagePullSecrets, nodeSelector, tolerations, affinity,"
          + " priorityClassName, serviceAccountName, podAnnotations, podLabels) every worker gets unless its"
          + " SourceDatabase sets them (env PGTRAIL_WORKER_POD_DEFAULTS).")
  String workerPodDefaults;

  @Option(names = "--worker-log-format",
      defaultValue = "${env:PGTRAIL_LOG_FORMAT:-" + OperatorOptions.DEFAULT_WORKER_LOG_FORMAT + "}",
      description = "Log format of the workers: json or text (default: the operator's own, env PGTRAIL_LOG_FORMAT).")
  String workerLogFormat;

  @Option(names = "--worker-stall-timeout", defaultValue = OperatorOptions.DEFAULT_WORKER_STALL_TIMEOUT,
      description = "WorkerStreaming turns False when the slot's confirmed position stands still this long while"
          + " WAL is pending (ISO-8601).")
  Duration workerStallTimeout;

  @Override
  public Integer call() throws Exception {
    Set<String> namespaces = new LinkedHashSet<>();
    Arrays.stream(watchNamespaces.split(",")).map(String::trim).filter(s -> !s.isEmpty()).forEach(namespaces::add);
    OperatorOptions options = OperatorOptions.defaults()
        .withWatchNamespaces(namespaces)
        .withLeaderElection(leaderElection, leaseNamespace)
        .withHttpPort(httpPort)
        .withWorkerImage(workerImage == null || workerImage.isBlank() ? OperatorOptions.defaultWorkerImage() : workerImage)
        .withIntervals(resync, retry, cleanupTimeout)
        .withReconcileThreads(reconcileThreads)
        .withWorkerDefaults(workerPodDefaults, workerLogFormat)
        .withWorkerStallTimeout(workerStallTimeout);
    ApiServer apiServer;
    String kubernetesVersion;
    try {
      apiServer = ApiServer.resolve(System.getenv());
      kubernetesVersion = apiServer.probe();
    } catch (ApiServer.Unusable e) {
      spec.commandLine().getErr().println("pgtrail operator: " + e.getMessage());
      return 2;
    }
    LOG.info("Kubernetes API server {} ({}), Kubernetes {}", apiServer.url(), apiServer.configuredBy(),
        kubernetesVersion);
    CountDownLatch stopped = new CountDownLatch(1);
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(apiServer.config()).build();
        PgtrailOperator operator = new PgtrailOperator(client, options)) {
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        operator.close();
        stopped.countDown();
      }, "pgtrail-shutdown"));
      operator.start();
      stopped.await();
    }
    return 0;
  }
}
