package io.pgtrail.worker;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * {@code /metrics} (Prometheus text), {@code /healthz} (the loop is alive) and {@code /readyz} (streaming
 * and making progress: it fails while the worker retries, is stalled or stopped, and when the acknowledged
 * position has not moved for {@code health.stallAfterMs} while the slot has data).
 */
public final class HealthServer implements AutoCloseable {
  private final HttpServer server;

  public HealthServer(int port, WorkerMetrics metrics, BooleanSupplier alive, BooleanSupplier ready)
      throws IOException {
    this(port, metrics, alive, ready, () -> ready.getAsBoolean() ? "streaming" : "not streaming");
  }

  /** {@code /readyz} answers {@code ready}, with {@code describe} as its body (e.g. why it is not ready). */
  public HealthServer(int port, WorkerMetrics metrics, BooleanSupplier alive, BooleanSupplier ready,
      Supplier<String> describe) throws IOException {
    server = HttpServer.create(new InetSocketAddress(port), 0);
    PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
    server.createContext("/metrics", exchange -> {
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      writer.write(body, metrics.registry().scrape());
      respond(exchange, 200, writer.getContentType(), body.toByteArray());
    });
    server.createContext("/healthz", exchange -> status(exchange, alive.getAsBoolean(), "alive", "stopped"));
    server.createContext("/readyz", exchange -> {
      boolean ok = ready.getAsBoolean();
      respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8",
          (describe.get() + "\n").getBytes(StandardCharsets.UTF_8));
    });
    server.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pgtrail-http");
      t.setDaemon(true);
      return t;
    }));
    server.start();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  private static void status(HttpExchange exchange, boolean ok, String good, String bad) throws IOException {
    respond(exchange, ok ? 200 : 503, "text/plain; charset=utf-8",
        ((ok ? good : bad) + "\n").getBytes(StandardCharsets.UTF_8));
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
  }
}
