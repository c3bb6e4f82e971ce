package io.pgtrail.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The operator options' defaults live in {@link OperatorOptions}: the command line, the chart's
 * values.yaml and the options table in docs/install.md say the same.
 */
class OperatorDefaultsTest {

  @Test
  void theCommandLineDefaultsAreTheOptionsDefaults() {
    OperatorCommand command = new OperatorCommand();
    new CommandLine(command).parseArgs();
    OperatorOptions defaults = OperatorOptions.defaults();
    if (unset("PGTRAIL_LEADER_ELECTION")) {
      assertThat(command.leaderElection).isEqualTo(defaults.leaderElection()).isTrue();
    }
    if (unset("PGTRAIL_LEADER_ELECTION_NAMESPACE") && unset("POD_NAMESPACE")) {
      assertThat(command.leaseNamespace).isEqualTo(defaults.leaseNamespace());
    }
    if (unset("PGTRAIL_METRICS_PORT") && unset("PGTRAIL_HTTP_PORT")) {
      assertThat(command.httpPort).isEqualTo(defaults.httpPort());
    }
    if (unset("PGTRAIL_LOG_FORMAT")) {
      assertThat(command.workerLogFormat).isEqualTo(defaults.workerLogFormat());
    }
    assertThat(command.resync).isEqualTo(defaults.resyncInterval()).isEqualTo(Duration.ofSeconds(60));
    assertThat(command.retry).isEqualTo(defaults.retryInterval());
    assertThat(command.cleanupTimeout).isEqualTo(defaults.cleanupTimeout());
    assertThat(command.reconcileThreads).isEqualTo(defaults.reconcileThreads());
    assertThat(command.workerStallTimeout).isEqualTo(defaults.workerStallTimeout());
  }

  @Test
  void theChartValuesMatchTheDefaults() throws Exception {
    @SuppressWarnings("unchecked")
    Map<String, Object> values = new KubernetesSerialization()
        .unmarshal(Files.readString(Path.of("helm/pgtrail/values.yaml")), Map.class);
    assertThat(String.valueOf(((Map<?, ?>) values.get("leaderElection")).get("enabled")))
        .isEqualTo(OperatorOptions.DEFAULT_LEADER_ELECTION);
    assertThat(String.valueOf(((Map<?, ?>) values.get("metrics")).get("port")))
        .isEqualTo(OperatorOptions.DEFAULT_HTTP_PORT);
  }

  @Test
  void theInstallGuideTableShowsTheDefaults() throws Exception {
    String doc = Files.readString(Path.of("docs/install.md"));
    assertThat(row(doc, "--leader-election")).contains("`" + OperatorOptions.DEFAULT_LEADER_ELECTION + "`",
        "Lease `" + OperatorOptions.DEFAULT_LEASE_NAME + "`");
    assertThat(row(doc, "--lease-namespace")).contains("`" + OperatorOptions.DEFAULT_LEASE_NAMESPACE + "`");
    assertThat(row(doc, "--http-port")).contains("`" + OperatorOptions.DEFAULT_HTTP_PORT + "`");
    assertThat(row(doc, "--resync")).contains("`" + OperatorOptions.DEFAULT_RESYNC_INTERVAL + "` / `"
        + OperatorOptions.DEFAULT_RETRY_INTERVAL + "`");
    assertThat(row(doc, "--cleanup-timeout")).contains("`" + OperatorOptions.DEFAULT_CLEANUP_TIMEOUT + "`");
    assertThat(row(doc, "--reconcile-threads")).contains("`" + OperatorOptions.DEFAULT_RECONCILE_THREADS + "`");
    assertThat(row(doc, "--worker-log-format")).contains("`" + OperatorOptions.DEFAULT_WORKER_LOG_FORMAT + "`");
    assertThat(row(doc, "--worker-stall-timeout")).contains("`" + OperatorOptions.DEFAULT_WORKER_STALL_TIMEOUT + "`");
    assertThat(row(doc, "--worker-image")).contains("`" + OperatorOptions.DEFAULT_IMAGE_REPOSITORY + ":");
  }

  private static String row(String doc, String option) {
    Optional<String> row = doc.lines().filter(line -> line.startsWith("| `" + option + "`")).findFirst();
    assertThat(row).as("the options table in docs/install.md has a row for %s", option).isPresent();
    return row.get();
  }

  private static boolean unset(String variable) {
    return System.getenv(variable) == null;
  }
}
