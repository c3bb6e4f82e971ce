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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile but legal data and destination faults against a running worker: each refused change is recorded
 * in its fallback form or set aside, the changes after it are recorded, the slot advances, and the metrics
 * and /readyz say what happened; a transient fault is retried with nothing set aside.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class WorkerIsolationTest {
  @Parameter PgVersion version;

  private ConnectionSettings source(LocalPostgres server) {
    ConnectionSettings db = TestPostgres.newDatabase(server, "src");
    server.execute(db.database(),
        "CREATE TABLE docs (id int PRIMARY KEY, doc json)",
        "CREATE TABLE blobs (k bytea PRIMARY KEY, note text)",
        "CREATE PUBLICATION p FOR TABLE docs, blobs");
    return db;
  }

  @Test
  void poisonChangesAreRecordedInFallbackFormOrSetAsideAndTheStreamGoesOn() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 1000);
        HealthServer http = WorkerCommand.healthServer(0, h.metrics, h.worker).start()) {
      server.execute(destination.database(),
          "ALTER TABLE changes ADD CONSTRAINT no_forbidden CHECK (after->>'note' IS DISTINCT FROM 'forbidden')",
          "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
              + " IF NEW.after->>'note' = 'refused' THEN RAISE EXCEPTION 'refused by a trigger'; END IF;"
              + " RETURN NEW; END$$",
          "CREATE TRIGGER refuse BEFORE INSERT ON changes FOR EACH ROW EXECUTE FUNCTION refuse()");
      server.execute(source.database(),
          "INSERT INTO docs VALUES (1, '{\"a\": \"x\\u0000y\"}')",
          "INSERT INTO docs VALUES (2, '\"\\ud800\"')",
          "INSERT INTO docs VALUES (3, '1e1000000')",
          "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '{\"user\": \"a\\u0000b\"}');"
              + " INSERT INTO docs VALUES (4, '{}'); COMMIT",
          "INSERT INTO blobs SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''), 'hex'), 'big'"
              + " FROM generate_series(1, 2600)",
          "INSERT INTO blobs VALUES ('\\x01', 'forbidden')",
          "INSERT INTO blobs VALUES ('\\x02', 'refused')",
          "INSERT INTO docs VALUES (100, '{\"ok\": true}')");
      long afterWorkload = WorkerHarness.currentLsn(source);

      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '100'") == 1);
      await().atMost(Duration.ofSeconds(10))
          .until(() -> WorkerHarness.confirmedFlush(source, source.database()) >= afterWorkload);

      assertThat(h.recorded()).isEqualTo(6);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes"
          + " WHERE context->'pgtrail'->'fallback' IS NOT NULL")).isEqualTo(5);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '1'"
          + " AND after->'doc'->>'a' = 'x\\u0000y'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '3'"
          + " AND after->>'doc' = '1e1000000'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '4'"
          + " AND context->>'user' = 'a\\u0000b'")).isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE \"table\" = 'blobs'"
          + " AND primary_key LIKE 'sha256:%' AND length(context->'pgtrail'->'fallback'->>'primary_key') = 5202"))
          .isEqualTo(1);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_dead_letter"
          + " WHERE \"table\" = 'blobs' AND sqlstate IN ('23514', 'P0001') AND position > 0")).isEqualTo(2);
      assertThat(WorkerHarness.count(destination, "SELECT fallback_changes * 10 + set_aside_changes"
          + " FROM pgtrail_progress")).isEqualTo(52);

      HttpClient client = HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + http.port();
      String metrics = client.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("pgtrail_worker_fallback_changes_total 5.0")
          .contains("pgtrail_worker_set_aside_changes_total 2.0")
          .contains("pgtrail_worker_errors_total{class=\"RowRejected\"} 7.0")
          .contains("pgtrail_worker_last_error_timestamp_seconds{class=\"RowRejected\"}")
          .contains("pgtrail_worker_reconnects_total 0.0");
      assertThat(client.send(HttpRequest.newBuilder(URI.create(base + "/readyz")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void batchesThatExceedTheDestinationStatementTimeoutAreRetriedSmallerAndNothingIsSetAside() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    server.execute(destination.database(),
        "ALTER DATABASE " + destination.database() + " SET statement_timeout = '300ms'",
        "CREATE TABLE slow_down (on_ boolean)", "INSERT INTO slow_down VALUES (true)");
    try (WorkerHarness h = new WorkerHarness(source, destination, source.database(), ColumnFilter.none(), 1000)) {
      server.execute(destination.database(),
          "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN"
              + " IF (SELECT on_ FROM slow_down) THEN PERFORM pg_sleep(1); END IF; RETURN NEW; END$$",
          "CREATE TRIGGER slow BEFORE INSERT ON changes FOR EACH ROW EXECUTE FUNCTION slow()");
      server.execute(source.database(), "INSERT INTO docs VALUES (1, '{}')");

      await().atMost(Duration.ofSeconds(20)).until(() -> h.metrics.errors.labelValues("Timeout").get() >= 2);
      assertThat(h.worker.isReady()).isFalse();
      assertThat(h.recorded()).isZero();
      server.execute(destination.database(), "UPDATE slow_down SET on_ = false");
      h.awaitRecorded(1, Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(10)).until(h.worker::isReady);

      // a transaction too big to write within statement_timeout in one batch: batches shrink until they fit
      double timeouts = h.metrics.errors.labelValues("Timeout").get();
      server.execute(destination.database(), "CREATE OR REPLACE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS"
          + " $$BEGIN PERFORM pg_sleep(0.005); RETURN NEW; END$$");
      server.execute(source.database(), "INSERT INTO docs SELECT g, '{}' FROM generate_series(2, 1001) g");
      h.awaitRecorded(1001, Duration.ofSeconds(60));
      assertThat(h.metrics.errors.labelValues("Timeout").get()).isGreaterThan(timeouts);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_dead_letter")).isZero();
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE context ? 'pgtrail'")).isZero();
    }
  }
}
