package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.openshift.api.model.monitoring.v1.PodMonitor;
import io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule;
import io.fabric8.openshift.api.model.monitoring.v1.Rule;
import io.pgtrail.api.v1alpha1.WorkerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The observability kit (off by default): a PodMonitor for the workers, a PrometheusRule and a Grafana
 * dashboard. Every metric an alert or a panel uses must be one the code exports.
 */
class ChartObservabilityTest {
  private static final Pattern METRIC = Pattern.compile("\\bpgtrail_[a-z0-9_]+");
  private static final Pattern REGISTERED = Pattern.compile("\\.name\\(\"(pgtrail_[a-z0-9_]+)\"\\)");

  @Test
  void theKitIsOffByDefault() {
    RenderedChart chart = RenderedChart.render();
    assertThat(chart.all(PodMonitor.class)).isEmpty();
    assertThat(chart.all(PrometheusRule.class)).isEmpty();
    assertThat(chart.all(ConfigMap.class)).isEmpty();
  }

  @Test
  void theKitRendersAndUsesOnlyMetricsTheCodeExports() throws IOException {
    RenderedChart chart = RenderedChart.render("--set", "podMonitor.enabled=true", "--set",
        "prometheusRule.enabled=true", "--set", "grafanaDashboard.enabled=true", "--set",
        "prometheusRule.labels.release=kube-prometheus-stack");

    PodMonitor workers = chart.one(PodMonitor.class);
    assertThat(workers.getSpec().getSelector().getMatchLabels())
        .containsEntry("app.kubernetes.io/name", "pgtrail-worker");
    assertThat(workers.getSpec().getNamespaceSelector().getAny()).isTrue();
    assertThat(workers.getSpec().getPodMetricsEndpoints()).singleElement().satisfies(e -> {
      assertThat(e.getPort()).isEqualTo("metrics"); // the worker container's port name
      assertThat(e.getPath()).isEqualTo("/metrics");
    });

    PrometheusRule rule = chart.one(PrometheusRule.class);
    assertThat(rule.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    List<Rule> alerts = rule.getSpec().getGroups().get(0).getRules();
    assertThat(alerts).extracting(Rule::getAlert).contains("PgtrailSourceNotReady", "PgtrailSlotRetainsTooMuchWal",
        "PgtrailWorkerNotStreaming", "PgtrailChangesSetAside", "PgtrailGapRecorded");

    ConfigMap dashboard = chart.one(ConfigMap.class);
    assertThat(dashboard.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    JsonNode json = new ObjectMapper().readTree(dashboard.getData().get("pgtrail.json"));
    List<String> panelQueries = new ArrayList<>();
    json.path("panels").forEach(p -> p.path("targets").forEach(t -> panelQueries.add(t.path("expr").asText())));
    assertThat(panelQueries).hasSizeGreaterThanOrEqualTo(10);

    Set<String> exported = exportedMetrics();
    Set<String> used = new TreeSet<>();
    alerts.forEach(a -> used.addAll(metrics(a.getExpr().getStrVal())));
    panelQueries.forEach(q -> used.addAll(metrics(q)));
    assertThat(used).contains("pgtrail_source_slot_retained_wal_bytes", "pgtrail_worker_lag_seconds",
        "pgtrail_worker_set_aside_changes_total", "pgtrail_worker_gap_records_total");
    assertThat(used).allSatisfy(m -> assertThat(exported).as("metric %s is exported by the code (src/main/java)", m)
        .contains(base(m)));
  }

  @Test
  void workerPodDefaultsAndTheLogFormatReachTheOperator() throws IOException {
    RenderedChart chart = RenderedChart.render("--set", "worker.priorityClassName=audit",
        "--set", "worker.nodeSelector.pool=db", "--set", "worker.imagePullSecrets[0].name=regcred",
        "--set", "worker.podLabels.team=data", "--set", "logFormat=text");
    var env = ChartDefaultValuesTest.plainEnvironment(chart.one(Deployment.class).getSpec().getTemplate().getSpec()
        .getContainers().get(0));
    WorkerSpec defaults = new ObjectMapper().readValue(env.get("PGTRAIL_WORKER_POD_DEFAULTS"), WorkerSpec.class);
    assertThat(defaults.priorityClassName).isEqualTo("audit");
    assertThat(defaults.nodeSelector).containsEntry("pool", "db");
    assertThat(defaults.imagePullSecrets).singleElement().satisfies(s -> assertThat(s.getName()).isEqualTo("regcred"));
    assertThat(defaults.podLabels).containsEntry("team", "data");
    assertThat(defaults.affinity).isNull();
    // the operator passes its own log format on to the workers (--worker-log-format defaults to it)
    assertThat(env).containsEntry("PGTRAIL_LOG_FORMAT", "text");

    var unset = ChartDefaultValuesTest.plainEnvironment(RenderedChart.render().one(Deployment.class).getSpec()
        .getTemplate().getSpec().getContainers().get(0));
    assertThat(unset).containsEntry("PGTRAIL_WORKER_POD_DEFAULTS", "{}");
  }

  private static Set<String> metrics(String expression) {
    Set<String> names = new TreeSet<>();
    Matcher m = METRIC.matcher(expression);
    while (m.find()) {
      names.add(m.group());
    }
    return names;
  }

  /** A histogram's series name without its _bucket/_sum/_count suffix. */
  private static String base(String series) {
    return series.replaceFirst("_(bucket|sum|count)$", "");
  }

  /** Names registered with the Prometheus client anywhere in src/main/java. */
  static Set<String> exportedMetrics() throws IOException {
    Set<String> names = new TreeSet<>();
    try (Stream<Path> files = Files.walk(ProjectFiles.root().resolve("src/main/java"))) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher m = REGISTERED.matcher(Files.readString(file));
        while (m.find()) {
          names.add(m.group(1));
        }
      }
    }
    return names;
  }
}
