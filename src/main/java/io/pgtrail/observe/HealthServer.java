package io.pgtrail.observe;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The one HTTP endpoint of a pgtrail process (operator or worker): {@code /metrics} (Prometheus text of the
 * process's registry), {@code /healthz} (liveness) and {@code /readyz} (readiness) on one port. Each process
 * brings its registry and its two probes; a probe answers 200 when ok, else 503, with its message as the body.
 *
 * <p>The constructor binds the port (so a port in use fails early, as a {@link java.net.BindException});
 * {@link #start()} serves. One daemon thread answers requests.
 */
public final class HealthServer implements AutoCloseable {
  private static final String TEXT = "text/plain; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService answering = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "pgtrail-http");
    t.setDaemon(true);
    return t;
  });
  private final PrometheusRegistry registry;
  private final PrometheusTextFormatWriter writer = ExpositionFormats.init().getPrometheusTextFormatWriter();

  public HealthServer(int port, PrometheusRegistry registry, Supplier<Probe> liveness, Supplier<Probe> readiness)
      throws IOException {
    this.registry = registry;
    this.server = HttpServer.create(new InetSocketAddress(port), 0);
    server.setExecutor(answering);
    server.createContext("/healthz", exchange -> answer(exchange, liveness.get()));
    server.createContext("/readyz", exchange -> answer(exchange, readiness.get()));
    server.createContext("/metrics", this::metrics);
  }

  public HealthServer start() {
    server.start();
    return this;
  }

  /** The bound port (the one asked for, or the ephemeral one for 0). */
  public int port() {
    return server.getAddress().getPort();
  }

  private void metrics(HttpExchange exchange) throws IOException {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    writer.write(body, registry.scrape());
    respond(exchange, 200, writer.getContentType(), body.toByteArray());
  }

  private static void answer(HttpExchange exchange, Probe probe) throws IOException {
    respond(exchange, probe.ok() ? 200 : 503, TEXT, (probe.message() + "\n").getBytes(StandardCharsets.UTF_8));
  }

  private static void respond(HttpExchange exchange, int status, String contentType, byte[] body) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    answering.shutdownNow();
  }
}
