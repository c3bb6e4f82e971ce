package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.observe.HealthServer;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** The replication loop in-process between real servers: recording, acknowledging, idling, faults. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class WorkerTest {
  private static final String[] TRACKED = {
      "CREATE TABLE orders (id int PRIMARY KEY, status text, updated_at timestamptz)",
      "ALTER TABLE orders REPLICA IDENTITY FULL",
      "CREATE TABLE busy (id serial PRIMARY KEY, v text)",
      "CREATE PUBLICATION p FOR TABLE orders"};

  @Parameter PgVersion version;

  private ConnectionSettings source(LocalPostgres server) {
    ConnectionSettings db = TestPostgres.newDatabase(server, "src");
    server.execute(db.database(), TRACKED);
    return db;
  }

  @Test
  void recordsChangesWithContextAndAcknowledgesThem() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    try (WorkerHarness h = new WorkerHarness(source, destination, source.database(),
            ColumnFilter.parse(List.of("orders.updated_at")), 1000);
        HealthServer http = WorkerCommand.healthServer(0, h.metrics, h.worker).start()) {
      server.execute(source.database(),
          "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"ann\"}');"
              + " INSERT INTO orders VALUES (1, 'new', now()), (2, 'new', now()); COMMIT",
          "UPDATE orders SET updated_at = now() WHERE id = 1",
          "UPDATE orders SET status = 'paid' WHERE id = 1",
          "DELETE FROM orders WHERE id = 2");
      long afterWorkload = WorkerHarness.currentLsn(source);

      h.awaitRecorded(4, Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(10))
          .until(() -> WorkerHarness.confirmedFlush(source, source.database()) >= afterWorkload);

      // Bemi's pairing: the message belongs to the next row change only
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE context->>'user' = 'ann'"
          + " AND operation = 'CREATE' AND primary_key = '1' AND database = '" + source.database() + "'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE context = '{}'"
          + " AND operation = 'CREATE' AND primary_key = '2'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'UPDATE'"
          + " AND before->>'status' = 'new' AND after->>'status' = 'paid' AND primary_key = '1'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'DELETE'"
          + " AND after = '{}' AND primary_key = '2' AND context = '{}'")).isEqualTo(1);
      assertThat(h.recorded()).isEqualTo(4);

      HttpClient client = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + http.port();
      HttpResponse<String> metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.body())
          .contains("pgtrail_worker_changes_recorded_total{operation=\"CREATE\",table=\"public.orders\"} 2.0")
          .contains("pgtrail_worker_batch_duration_seconds_bucket")
          .contains("pgtrail_worker_lag_bytes").contains("pgtrail_worker_lag_seconds")
          .contains("pgtrail_worker_reconnects_total 0.0").contains("pgtrail_worker_malformed_contexts_total")
          .contains("pgtrail_worker_ready 1.0").contains("pgtrail_worker_consecutive_failures 0.0")
          .contains("pgtrail_worker_state{state=\"streaming\"} 1.0");
      assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void anIdleTrackedTableDoesNotPinWalWhileOtherTablesAreBusy() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 1000)) {
      long start = WorkerHarness.confirmedFlush(source, source.database());
      for (int i = 0; i < 20; i++) {
        server.execute(source.database(), "INSERT INTO busy (v) SELECT repeat('x', 100) FROM generate_series(1, 500)");
      }
      long afterBusyWork = WorkerHarness.currentLsn(source);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> WorkerHarness.confirmedFlush(source, source.database()) >= afterBusyWork);
      assertThat(afterBusyWork).isGreaterThan(start + 500_000);
      assertThat(h.recorded()).isZero();
    }
  }

  @Test
  void survivesASourceRestartWithoutLosingOrRepeatingChanges() throws Exception {
    try (LocalPostgres sourceServer = TestPostgres.start(version, b -> b)) {
      ConnectionSettings source = source(sourceServer);
      ConnectionSettings destination = TestPostgres.newDatabase(version, "dst");
      try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 50)) {
        insertOrders(sourceServer, source, 1, 300);
        sourceServer.restart();
        insertOrders(sourceServer, source, 301, 600);
        h.awaitRecorded(600, Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(20)).until(() -> h.metrics.reconnects.get() >= 1);
        assertExactlyOnce(destination, 600);
      }
    }
  }

  @Test
  void survivesADestinationOutageWithoutLosingOrRepeatingChanges() throws Exception {
    try (LocalPostgres destinationServer = TestPostgres.start(version, b -> b)) {
      ConnectionSettings source = source(TestPostgres.shared(version));
      ConnectionSettings destination = TestPostgres.newDatabase(destinationServer, "dst");
      try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 50)) {
        insertOrders(TestPostgres.shared(version), source, 1, 200);
        destinationServer.stop();
        insertOrders(TestPostgres.shared(version), source, 201, 400);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.metrics.reconnects.get() >= 2);
        assertThat(h.worker.isStreaming()).isFalse();
        assertThat(h.worker.isReady()).isFalse();
        assertThat(h.worker.readiness()).startsWith("retrying (ConnectionLost)");
        assertThat(h.worker.status().consecutiveFailures()).isGreaterThanOrEqualTo(2);
        destinationServer.restart();
        h.awaitRecorded(400, Duration.ofSeconds(60));
        assertExactlyOnce(destination, 400);
        await().atMost(Duration.ofSeconds(10)).until(h.worker::isReady);
        assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_dead_letter")).isZero();
      }
    }
  }

  /** One transaction per 10 rows. */
  static void insertOrders(LocalPostgres server, ConnectionSettings db, int from, int to) {
    for (int i = from; i <= to; i += 10) {
      server.execute(db.database(), "INSERT INTO orders SELECT g, 'new', now() FROM generate_series("
          + i + ", " + Math.min(to, i + 9) + ") g");
    }
  }

  static void assertExactlyOnce(ConnectionSettings destination, int rows) {
    assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes")).isEqualTo(rows);
    assertThat(WorkerHarness.count(destination, "SELECT count(DISTINCT primary_key) FROM changes")).isEqualTo(rows);
    assertThat(WorkerHarness.count(destination, "SELECT max(primary_key::int) FROM changes")).isEqualTo(rows);
  }
}
