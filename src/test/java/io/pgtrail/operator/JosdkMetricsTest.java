package io.pgtrail.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** JOSDK's own reconciliation metrics are on the operator's /metrics, counting, and documented in docs/metrics.md. */
class JosdkMetricsTest {
  private static final Pattern SAMPLE = Pattern.compile("(?m)^(operator_sdk_[a-z_]+)(\\{[^}]*})? (\\S+)$");
  private static final String POLICY = "kind=\"TrackingPolicy\"";

  @Test
  void aReconciliationIsCountedInJosdksMetricsOnTheOperatorsEndpoint() throws Exception {
    try (OperatorHarness harness = new OperatorHarness().startOperator()) {
      harness.apply(OperatorProcessTest.orphanPolicy(MockCluster.NAMESPACE));
      harness.awaitPolicy("p", "Ready", "False", "SourceNotFound");

      Map<String, Double> samples = new TreeMap<>();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        samples.clear();
        samples.putAll(scrape(harness.operator().httpPort()));
        assertThat(sum(samples, "operator_sdk_reconciliations_success_total", POLICY)).isPositive();
      });
      assertThat(sum(samples, "operator_sdk_reconciliations_started_total", POLICY)).isPositive();
      assertThat(sum(samples, "operator_sdk_reconciliations_started_total", "reconciliations_retries_number=\"0\""))
          .isPositive();
      assertThat(sum(samples, "operator_sdk_events_received_total", POLICY)).isPositive();
      assertThat(sum(samples, "operator_sdk_controllers_execution_reconcile_seconds_count", POLICY)).isPositive();
      assertThat(sum(samples, "operator_sdk_controllers_execution_reconcile_success_total",
          "controller=\"trackingpolicy\"")).isPositive();
      assertThat(samples.keySet()).anyMatch(k -> k.startsWith("operator_sdk_reconciliations_queue_size_trackingpolicy{"))
          .anyMatch(k -> k.startsWith("operator_sdk_reconciliations_executions_sourcedatabase{"));

      Set<String> names = new TreeSet<>();
      samples.keySet().forEach(k -> names.add(k.replaceFirst("\\{.*", "").replaceFirst("_(bucket|count|sum|max)$", "")));
      String doc = Files.readString(Path.of("docs/metrics.md"));
      assertThat(names).allSatisfy(name -> assertThat(doc).as("%s in docs/metrics.md", name).contains("`" + name + "`"));
    }
  }

  private static double sum(Map<String, Double> samples, String name, String label) {
    return samples.entrySet().stream()
        .filter(e -> e.getKey().startsWith(name + "{") && e.getKey().contains(label))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  private static Map<String, Double> scrape(int port) throws Exception {
    HttpResponse<String> response = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    Map<String, Double> samples = new TreeMap<>();
    Matcher m = SAMPLE.matcher(response.body());
    while (m.find()) {
      samples.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
    }
    return samples;
  }
}
