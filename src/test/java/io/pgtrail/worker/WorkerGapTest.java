package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Holes in the trail are written into the trail: a slot dropped or invalidated under the worker, a
 * publication re-created, a slot moved past what the worker acknowledged. Each gives a gap record, a
 * metric and, by default, a stop with exit code 3; a deliberate re-creation (or onGap: continue) goes on.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class WorkerGapTest {
  @Parameter PgVersion version;

  private static ConnectionSettings source(LocalPostgres server) {
    ConnectionSettings db = TestPostgres.newDatabase(server, "src");
    server.execute(db.database(), "CREATE TABLE docs (id int PRIMARY KEY)", "CREATE TABLE other (v text)",
        "CREATE PUBLICATION p FOR TABLE docs");
    return db;
  }

  private static WorkerHarness worker(ConnectionSettings source, ConnectionSettings destination,
      WorkerConfig.OnGap onGap, boolean awaitStreaming) {
    return new WorkerHarness(WorkerHarness.settings(source, destination, source.database(), ColumnFilter.none(), 100,
        null).withOnGap(onGap), awaitStreaming, false);
  }

  private static void awaitGapStop(WorkerHarness h, String reason) throws InterruptedException {
    assertThat(h.worker.awaitStopped(Duration.ofSeconds(30))).as("the worker stops on the gap").isTrue();
    assertThat(h.worker.exitCode()).isEqualTo(Worker.EXIT_GAP);
    assertThat(h.worker.status().state()).isEqualTo(WorkerStatus.State.STOPPED);
    assertThat(h.worker.status().reason()).isEqualTo(reason);
    assertThat(h.worker.isReady()).isFalse();
  }

  private static long gapRecords(ConnectionSettings destination, String reason) {
    return WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'MESSAGE'"
        + " AND primary_key IS NULL AND \"table\" = '' AND context->'pgtrail'->'gap'->>'reason' = '" + reason + "'"
        + " AND (context->'pgtrail'->'gap'->>'from_position')::bigint > 0");
  }

  private static boolean recorded(ConnectionSettings destination, int id) {
    return recordings(destination, id) == 1;
  }

  /** Rows for the id; -1 when the query fails, so "not recorded" is asserted as zero, never as "not one". */
  private static long recordings(ConnectionSettings destination, int id) {
    return WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE primary_key = '" + id + "'");
  }

  @Test
  void aSlotDroppedWhileStreamingIsAGapNotASilentRecreation() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    String slot = source.database();
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, true)) {
      server.execute(source.database(), "INSERT INTO docs VALUES (1)");
      h.awaitRecorded(1, Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() -> server.execute(source.database(),
          "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"
              + " AND active_pid IS NOT NULL",
          "SELECT pg_drop_replication_slot('" + slot + "')"));
      awaitGapStop(h, "SlotMissing");
      assertThat(h.metrics.gapRecords.labelValues("SlotMissing").get()).isEqualTo(1.0);
    }
    assertThat(gapRecords(destination, "SlotMissing")).isEqualTo(1);
    assertThat(WorkerHarness.count(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
        .as("not re-created silently").isZero();
    assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM pgtrail_progress WHERE state = 'stopped'"
        + " AND state_reason = 'SlotMissing' AND gap_records = 1")).isEqualTo(1);

    // a restart while the slot is still missing stops again, without a second record of the same gap
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, false)) {
      awaitGapStop(h, "SlotMissing");
    }
    assertThat(gapRecords(destination, "SlotMissing")).isEqualTo(1);

    // the slot re-created on purpose: the worker records where the trail resumes and goes on
    server.execute(source.database(), "INSERT INTO docs VALUES (2)",
        "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, true)) {
      server.execute(source.database(), "INSERT INTO docs VALUES (3)");
      await().atMost(Duration.ofSeconds(20)).until(() -> recorded(destination, 3));
      assertThat(recordings(destination, 2)).as("lost with the slot; the gap records say so").isZero();
      assertThat(gapRecords(destination, "PositionJump")).isEqualTo(1);
      assertThat(h.worker.isAlive()).isTrue();
    }
    WorkerHarness.dropSlot(source, slot);
  }

  @Test
  void aRecreatedPublicationOrASlotMovedByOthersIsAGap() throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings source = source(server);
    ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
    String slot = source.database();
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, true)) {
      server.execute(source.database(), "INSERT INTO docs VALUES (1)");
      h.awaitRecorded(1, Duration.ofSeconds(20));
      server.execute(source.database(), "DROP PUBLICATION p", "CREATE PUBLICATION p FOR TABLE docs");
      awaitGapStop(h, "GapRecorded");
    }
    assertThat(gapRecords(destination, "PublicationRecreated")).isEqualTo(1);
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, true)) {
      server.execute(source.database(), "INSERT INTO docs VALUES (2)");
      await().atMost(Duration.ofSeconds(20)).until(() -> recorded(destination, 2));
    }

    // someone else consumed the slot while the worker was away
    server.execute(source.database(), "INSERT INTO docs VALUES (3)",
        "SELECT pg_replication_slot_advance('" + slot + "', pg_current_wal_lsn())");
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, false)) {
      awaitGapStop(h, "GapRecorded");
    }
    assertThat(gapRecords(destination, "PositionJump")).isEqualTo(1);
    try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, true)) {
      server.execute(source.database(), "INSERT INTO docs VALUES (4)");
      await().atMost(Duration.ofSeconds(20)).until(() -> recorded(destination, 4));
      assertThat(recordings(destination, 3)).isZero();
    }
    WorkerHarness.dropSlot(source, slot);
  }

  @Test
  void anInvalidatedSlotStopsTheWorkerAndOnGapContinueRecreatesIt() throws Exception {
    try (LocalPostgres server = TestPostgres.start(version, b -> b.serverConfig("max_slot_wal_keep_size", "1MB"))) {
      ConnectionSettings source = source(server);
      ConnectionSettings destination = TestPostgres.newDatabase(server, "dst");
      String slot = source.database();
      try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, true)) {
        server.execute(source.database(), "INSERT INTO docs VALUES (1)");
        h.awaitRecorded(1, Duration.ofSeconds(20));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        server.execute(source.database(), "INSERT INTO other SELECT repeat('x', 1000) FROM generate_series(1, 100)",
            "SELECT pg_switch_wal()", "CHECKPOINT");
        return WorkerHarness.count(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot
            + "' AND wal_status = 'lost'") == 1;
      });
      try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.STOP, false)) {
        awaitGapStop(h, "SlotInvalidated");
      }
      assertThat(gapRecords(destination, "SlotInvalidated")).isEqualTo(1);
      try (WorkerHarness h = worker(source, destination, WorkerConfig.OnGap.CONTINUE, true)) {
        server.execute(source.database(), "INSERT INTO docs VALUES (2)");
        await().atMost(Duration.ofSeconds(20)).until(() -> recorded(destination, 2));
        assertThat(h.metrics.gapRecords.labelValues("SlotInvalidated").get()).isEqualTo(1.0);
      }
      assertThat(gapRecords(destination, "SlotInvalidated")).as("one record at the start, one saying where it ends")
          .isEqualTo(2);
      assertThat(WorkerHarness.count(destination, "SELECT count(*) FROM changes WHERE operation = 'MESSAGE'"
          + " AND context->'pgtrail'->'gap'->>'to_position' IS NOT NULL")).isEqualTo(1);
    }
  }
}
