package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.demo.Kubelet;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.worker.sink.ProgressTable;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator as a mature controller, run as its own operator instance against the mock API server and
 * real PostgreSQL: owned objects restored after hand edits, deletion that waits for a streaming worker,
 * an undecodable object that harms no other, slot health observed while setup fails, worker progress.
 *
 * <p>The mock API server has no controllers: no garbage collection, no ReplicaSets or pods. A stand-in
 * deployment controller marks worker Deployments available, and where a real worker matters a stand-in
 * kubelet ({@link Kubelet}) runs it in this JVM from exactly what the operator rendered. A foreground
 * deletion removes a Deployment at once here (no pods to wait for), so "the worker has stopped" is
 * shown through the slot: the kubelet keeps the worker streaming after its Deployment is gone.
 */
class OperatorConvergenceTest {
  static final PgVersion VERSION = PgVersion.primary();

  OperatorHarness harness;
  SourceFixture db;
  @TempDir
  Path pods;

  @BeforeEach
  void start() {
    harness = new OperatorHarness();
    db = SourceFixture.on(VERSION, "converge");
    db.createSecrets(harness.cluster);
  }

  @AfterEach
  void stop() {
    var events = harness.cluster.allEvents();
    harness.close();
    db.dropSlots();
    assertThat(harness.logs.text()).doesNotContain(db.adminPassword).doesNotContain(db.destinationPassword);
    assertThat(events).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(db.adminPassword));
    assertThat(harness.logs.lines()).noneMatch(l -> l.contains("failed unexpectedly"));
  }

  private SourceDatabase ready(String name) {
    harness.apply(SourceFixture.policy(name + "-policy", name, List.of("orders"), List.of()));
    harness.apply(db.source(name));
    return harness.awaitSource(name, "Ready", "True", "Ready");
  }

  private Deployment deployment(String name) {
    return harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE).withName(name).get();
  }

  @Test
  void workerScaledToZeroAndItsConfigEditedByHandAreRestored() {
    harness.startOperator();
    SourceDatabase source = ready("src");
    String yaml = harness.client().configMaps().inNamespace(MockCluster.NAMESPACE).withName("src-worker-config").get()
        .getData().get("worker.yaml");
    // from here the stand-in deployment controller reports nothing available: Ready must not survive the drift
    harness.cluster.workersBecomeAvailable(false);

    // kubectl scale (the mock has no scale subresource: the same change through the Deployment itself)
    harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE).withName("src-worker")
        .edit(d -> {
          d.getSpec().setReplicas(0);
          return d;
        });
    harness.client().configMaps().inNamespace(MockCluster.NAMESPACE).withName("src-worker-config")
        .edit(cm -> {
          cm.getData().put("worker.yaml", "slot: broken\n");
          return cm;
        });
    String password = harness.client().secrets().inNamespace(MockCluster.NAMESPACE).withName("src-worker-credentials")
        .get().getData().get("source-password");
    harness.client().secrets().inNamespace(MockCluster.NAMESPACE).withName("src-worker-credentials")
        .edit(secret -> {
          secret.getData().put("source-password", "d3Jvbmc=");
          return secret;
        });

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(deployment("src-worker").getSpec().getReplicas()).isEqualTo(1);
      assertThat(harness.client().configMaps().inNamespace(MockCluster.NAMESPACE).withName("src-worker-config").get()
          .getData()).containsExactly(Map.entry("worker.yaml", yaml));
      assertThat(harness.cluster.events(source)).filteredOn(e -> e.getReason().equals("DriftRepaired"))
          .extracting(e -> e.getMessage()).anySatisfy(m -> assertThat(m).contains("spec.replicas"))
          .anySatisfy(m -> assertThat(m).contains("data.'worker.yaml'"))
          .anySatisfy(m -> assertThat(m).contains("Secret src-worker-credentials (data.source-password)"));
      assertThat(harness.client().secrets().inNamespace(MockCluster.NAMESPACE).withName("src-worker-credentials")
          .get().getData()).containsEntry("source-password", password);
    });
    SourceDatabase notReady = harness.awaitSource("src", "Ready", "False", "WorkerStarting");
    assertThat(condition(notReady.getStatus().conditions, "WorkerAvailable")).hasValueSatisfying(c ->
        assertThat(c.getStatus()).isEqualTo("False"));

    harness.cluster.workersBecomeAvailable(true);
    harness.awaitSource("src", "Ready", "True", "Ready");
  }

  @Test
  void deletingASourceWhoseWorkerStillStreamsDropsSlotAndPublicationOnceItStops() throws Exception {
    harness.startOperator();
    SourceDatabase source = ready("src");
    String slot = source.getStatus().slotName;
    String publication = source.getStatus().publicationName;
    try (Kubelet kubelet = harness.cluster.kubelet("src-worker", pods).outlivingDeletion().start()) {
      await().atMost(Duration.ofSeconds(30)).until(kubelet::runsCurrentTemplate);
      harness.awaitSource("src", "SlotReady", "True", null);
      await().atMost(Duration.ofSeconds(10)).until(() -> db.strings(
          "SELECT active::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'").equals(List.of("true")));

      harness.client().resource(source).delete();
      await().atMost(Duration.ofSeconds(10)).until(() -> deployment("src-worker") == null);
      // the pod is still stopping: its replication connection holds the slot, and deletion waits. Two cleanup
      // attempts that found the slot in use (counted in the log) have gone by, and nothing was dropped
      await().atMost(Duration.ofSeconds(30)).until(() -> harness.logs.lines().stream()
          .filter(l -> l.contains("cleanup of " + MockCluster.NAMESPACE + "/src not finished: replication slot "
              + slot + " is still in use"))
          .count() >= 2);
      assertThat(harness.source("src")).isNotNull();
      assertThat(db.slotExists(slot)).isTrue();
      assertThat(db.publicationExists(publication)).isTrue();
      assertThat(harness.cluster.events(source)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("WaitingForWorker"))
          .noneSatisfy(e -> assertThat(e.getReason()).isEqualTo("CleanupDone"));

      kubelet.stopWorker();
      await().atMost(Duration.ofSeconds(20)).until(() -> harness.source("src") == null);
    }
    assertThat(db.slotExists(slot)).isFalse();
    assertThat(db.publicationExists(publication)).isFalse();
    assertThat(harness.cluster.events(source)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("CleanupDone"));
  }

  @Test
  void anObjectThisOperatorCannotDecodeIsReportedOnItselfAndHarmsNoOther() {
    Map<String, Object> spec = Serialization.jsonMapper().convertValue(db.source("future").getSpec(), Map.class);
    spec.put("provider", "oracleCloud"); // e.g. a newer CRD applied before the operator was upgraded
    spec.put("someFutureField", Map.of("enabled", true));
    @SuppressWarnings("unchecked")
    Map<String, Object> connection = new LinkedHashMap<>((Map<String, Object>) spec.get("connection"));
    connection.put("port", "not-a-number");
    spec.put("connection", connection);
    GenericKubernetesResource future = new GenericKubernetesResourceBuilder()
        .withApiVersion("pgtrail.io/v1alpha1").withKind("SourceDatabase")
        .withNewMetadata().withName("future").withNamespace(MockCluster.NAMESPACE).endMetadata()
        .withAdditionalProperties(Map.of("spec", spec)).build();
    harness.client().genericKubernetesResources("pgtrail.io/v1alpha1", "SourceDatabase")
        .inNamespace(MockCluster.NAMESPACE).resource(future).create();

    harness.startOperator(); // the undecodable object is there from the first list
    SourceDatabase invalid = harness.awaitSource("future", "Ready", "False", "InvalidSpec");
    assertThat(condition(invalid.getStatus().conditions, "Ready").get().getMessage())
        .contains("spec.provider: 'oracleCloud'").contains("selfManaged, awsRds, gcpCloudSql")
        .contains("spec.connection.port: 'not-a-number'").doesNotContain("someFutureField");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(harness.cluster.events(invalid))
        .anySatisfy(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getReason()).isEqualTo("InvalidSpec");
        }));

    ready("src");
    assertThat(harness.operator().readiness().ok()).as("/readyz: every event source healthy").isTrue();
  }

  @Test
  void slotHealthIsReportedWhileThePreflightFails() throws Exception {
    harness.startOperator();
    SourceDatabase source = db.source("src");
    source.getSpec().maxRetainedWal = new Quantity("64Ki");
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    harness.apply(source);
    harness.awaitSource("src", "SlotReady", "True", null);

    // the role loses its rights (preflight fails) while nobody consumes the slot and WAL piles up
    db.execute("ALTER ROLE " + db.adminUser + " NOSUPERUSER NOREPLICATION");
    try {
      db.execute("INSERT INTO public.orders SELECT g, g, now() FROM generate_series(1, 5000) g");
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
        SourceDatabase s = harness.source("src");
        assertThat(condition(s.getStatus().conditions, "ReplicationPermitted")).hasValueSatisfying(c ->
            assertThat(c.getStatus()).isEqualTo("False"));
        assertThat(condition(s.getStatus().conditions, "SlotHealthy")).hasValueSatisfying(c -> {
          assertThat(c.getStatus()).isEqualTo("False");
          assertThat(c.getReason()).isEqualTo("RetainedWalTooLarge");
        });
        assertThat(s.getStatus().slot.retainedWalBytes).isGreaterThan(64 * 1024L);
      });
    } finally {
      db.execute("ALTER ROLE " + db.adminUser + " SUPERUSER REPLICATION");
    }
  }

  @Test
  void theWorkersProgressReportReachesTheStatus() {
    harness.startOperator();
    SourceDatabase source = ready("src");
    String slot = source.getStatus().slotName;
    // the worker's side of the contract, written here as the worker would (see CONTRACTS: pgtrail_progress)
    ProgressTable.createStatements().forEach(this::progress);
    progress("GRANT SELECT ON pgtrail_progress TO " + db.destinationUser);
    progress("INSERT INTO pgtrail_progress (slot_name, acknowledged_lsn, acknowledged_at, state, state_reason,"
        + " last_error_class, last_error_message, last_error_at, consecutive_failures, set_aside_changes, gap_records,"
        + " updated_at) VALUES ('" + slot + "', 100, now(), 'retrying', 'DestinationUnavailable', 'PSQLException',"
        + " 'connection refused', now(), 4, 3, 1, now())");
    SourceDatabase retrying = harness.awaitSource("src", "WorkerStreaming", "False", "DestinationUnavailable");
    assertThat(condition(retrying.getStatus().conditions, "WorkerStreaming").get().getMessage())
        .contains("4 consecutive failure(s)").contains("set aside 3 change(s), 1 gap record(s)")
        .contains("PSQLException: connection refused");
    assertThat(retrying.getStatus().worker.setAsideChanges).isEqualTo(3);
    assertThat(retrying.getStatus().worker.gapRecords).isEqualTo(1);
    assertThat(condition(retrying.getStatus().conditions, "Ready").get().getStatus()).isEqualTo("False");

    progress("UPDATE pgtrail_progress SET state = 'streaming', state_reason = NULL, consecutive_failures = 0,"
        + " updated_at = now()");
    harness.awaitSource("src", "WorkerStreaming", "True", "WorkerStreaming");
    harness.awaitSource("src", "Ready", "True", "Ready");

    progress("UPDATE pgtrail_progress SET updated_at = now() - interval '5 minutes'");
    harness.awaitSource("src", "WorkerStreaming", "False", "WorkerNotReporting");
  }

  @Test
  void aWorkerThatStopsAcknowledgingShowsInTheSource() throws Exception {
    harness.withOptions(o -> o.withWorkerStallTimeout(Duration.ofSeconds(3))).startOperator();
    ready("src");
    try (Kubelet kubelet = harness.cluster.kubelet("src-worker", pods).start()) {
      await().atMost(Duration.ofSeconds(30)).until(kubelet::runsCurrentTemplate);
      db.execute("INSERT INTO public.orders VALUES (1, 1, now())");
      harness.awaitSource("src", "WorkerStreaming", "True", "WorkerStreaming");

      // the destination's changes table is locked: the worker cannot commit, so it acknowledges nothing
      try (Connection lock = PgConnections.open(db.destinationDb)) {
        lock.setAutoCommit(false);
        lock.createStatement().execute("LOCK TABLE changes IN ACCESS EXCLUSIVE MODE");
        db.execute("INSERT INTO public.orders SELECT g, g, now() FROM generate_series(2, 100) g");
        SourceDatabase stalled = harness.awaitSource("src", "WorkerStreaming", "False", "WorkerNotAcknowledging");
        assertThat(condition(stalled.getStatus().conditions, "WorkerStreaming").get().getMessage())
            .contains("confirmed position has not moved");
        harness.awaitSource("src", "Ready", "False", "WorkerNotAcknowledging");
        lock.rollback();
      }
      db.execute("INSERT INTO public.orders VALUES (101, 1, now())");
      harness.awaitSource("src", "WorkerStreaming", "True", "WorkerStreaming");
    }
  }

  private void progress(String sql) {
    db.server.execute(db.destinationDb.database(), sql);
  }
}
