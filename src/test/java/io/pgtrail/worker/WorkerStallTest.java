package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A worker that is connected but makes no progress is not ready (worker-side logic: one PostgreSQL major suffices). */
class WorkerStallTest {
  @Test
  void aWriteThatHangsMakesTheWorkerUnreadyUntilItCompletes() throws Exception {
    LocalPostgres server = TestPostgres.shared(PgVersion.primary());
    ConnectionSettings source = TestPostgres.newDatabase(server, "src");
    server.execute(source.database(), "CREATE TABLE docs (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE docs");
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    Worker.Settings settings = WorkerHarness.settings(source, destination, source.database(), ColumnFilter.none(), 100,
        null).withStallAfter(Duration.ofSeconds(1));
    try (WorkerHarness h = new WorkerHarness(settings, true, true);
        Connection gate = PgConnections.open(destination)) {
      await().atMost(Duration.ofSeconds(10)).until(h.worker::isReady);
      // the write hangs on a lock the test holds, for as long as the test holds it (not for a guessed time)
      server.execute(destination.database(), "CREATE TABLE gate ()",
          "CREATE FUNCTION hang() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM count(*) FROM gate; RETURN NEW; END$$",
          "CREATE TRIGGER hang BEFORE INSERT ON changes FOR EACH ROW EXECUTE FUNCTION hang()");
      gate.setAutoCommit(false);
      gate.createStatement().execute("LOCK TABLE gate IN ACCESS EXCLUSIVE MODE");
      server.execute(source.database(), "INSERT INTO docs VALUES (1)");

      await().atMost(Duration.ofSeconds(30)).until(() -> !h.worker.isReady());
      assertThat(h.worker.readiness()).startsWith("stalled: no acknowledged progress");
      assertThat(h.worker.isStreaming()).isTrue();
      assertThat(h.recorded()).as("the write is still held").isZero();
      gate.commit();
      h.awaitRecorded(1, Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(10)).until(h.worker::isReady);
    }
  }
}
