package io.pgtrail.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.BindException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HealthServerTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(HealthServer server, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void answersEachProbeAsItIsNowAndServesTheProcessRegistry() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    Counter.builder().name("pgtrail_test_things_total").help("things").register(registry).inc(3);
    AtomicReference<Probe> live = new AtomicReference<>(Probe.ok("alive"));
    AtomicReference<Probe> ready = new AtomicReference<>(Probe.failing("not streaming: retrying"));
    try (HealthServer server = new HealthServer(0, registry, live::get, ready::get).start()) {
      HttpResponse<String> healthz = get(server, "/healthz");
      assertThat(healthz.statusCode()).isEqualTo(200);
      assertThat(healthz.body()).isEqualTo("alive\n");
      HttpResponse<String> readyz = get(server, "/readyz");
      assertThat(readyz.statusCode()).isEqualTo(503);
      assertThat(readyz.body()).isEqualTo("not streaming: retrying\n");

      ready.set(Probe.ok("streaming"));
      live.set(Probe.failing("stopped"));
      assertThat(get(server, "/readyz").statusCode()).isEqualTo(200);
      assertThat(get(server, "/healthz").statusCode()).isEqualTo(503);

      HttpResponse<String> metrics = get(server, "/metrics");
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
      assertThat(metrics.body()).contains("pgtrail_test_things_total 3.0");
    }
  }

  @Test
  void aPortInUseFailsWhenConstructed() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    try (HealthServer first = new HealthServer(0, registry, () -> Probe.ok("ok"), () -> Probe.ok("ok"))) {
      assertThatThrownBy(() -> new HealthServer(first.port(), registry, () -> Probe.ok("ok"), () -> Probe.ok("ok")))
          .isInstanceOf(BindException.class);
    }
  }
}
