package io.pgtrail.operator;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.javaoperatorsdk.operator.Operator;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;

/**
 * /healthz (the process serves requests), /readyz and /metrics (Prometheus text format) on one port.
 * A standby replica (not holding the Lease) is ready: it must not block a rolling update of the
 * operator, whose old replica only lets the Lease go when it stops.
 */
final class HealthServer {
  private final HttpServer server;
  private final PrometheusRegistry registry;
  private final Operator operator;
  private final ExpositionFormats formats = ExpositionFormats.init();
  private final java.util.function.BooleanSupplier leading;

  HealthServer(int port, PrometheusRegistry registry, Operator operator, java.util.function.BooleanSupplier leading)
      throws IOException {
    this.registry = registry;
    this.operator = operator;
    this.leading = leading;
    this.server = HttpServer.create(new InetSocketAddress(port), 16);
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pgtrail-http");
      t.setDaemon(true);
      return t;
    }));
    server.createContext("/healthz", exchange -> respond(exchange, 200, "text/plain", "ok\n"));
    server.createContext("/readyz", this::ready);
    server.createContext("/metrics", this::metrics);
  }

  private void ready(HttpExchange exchange) throws IOException {
    if (!leading.getAsBoolean()) {
      respond(exchange, 200, "text/plain", "ready (standby: another replica holds the leader Lease)\n");
      return;
    }
    var info = operator.getRuntimeInfo();
    boolean ready = info.isStarted() && info.allEventSourcesAreHealthy();
    respond(exchange, ready ? 200 : 503, "text/plain", ready ? "ready\n"
        : "not ready: " + (info.isStarted() ? "unhealthy event sources " + info.unhealthyEventSources().keySet()
            : "operator not started (waiting for the leader lease?)") + "\n");
  }

  private void metrics(HttpExchange exchange) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    var writer = formats.getPrometheusTextFormatWriter();
    writer.write(body, registry.scrape());
    exchange.getResponseHeaders().set("Content-Type", writer.getContentType());
    exchange.sendResponseHeaders(200, body.size());
    try (OutputStream out = exchange.getResponseBody()) {
      body.writeTo(out);
    }
  }

  private static void respond(HttpExchange exchange, int code, String type, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  void start() {
    server.start();
  }

  int port() {
    return server.getAddress().getPort();
  }

  void stop() {
    server.stop(1);
  }
}
