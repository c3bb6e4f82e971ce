package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.pgtrail.api.v1alpha1.ReclaimPolicy;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** apply → Ready with publication, slot and worker; policy change; deletion with delete and retain. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class SourceDatabaseLifecycleTest {
  @Parameter PgVersion version;

  OperatorHarness harness;
  SourceFixture db;

  @BeforeEach
  void start() {
    harness = new OperatorHarness().startOperator();
    db = SourceFixture.on(version, "lifecycle");
    db.createSecrets(harness.cluster);
  }

  @AfterEach
  void stop() {
    List<Event> events = harness.cluster.allEvents();
    harness.close();
    db.dropSlots();
    String logs = harness.logs.text();
    assertThat(logs).isNotEmpty().doesNotContain(db.adminPassword).doesNotContain(db.destinationPassword);
    assertThat(events).isNotEmpty().allSatisfy(e -> assertThat(e.getMessage())
        .doesNotContain(db.adminPassword).doesNotContain(db.destinationPassword));
  }

  @Test
  void appliedSourceBecomesReadyAndFollowsItsPolicies() throws Exception {
    long started = System.nanoTime();
    harness.apply(SourceFixture.policy("orders-policy", "orders", List.of("public.orders"), List.of()));
    harness.apply(db.source("orders"));
    SourceDatabase ready = harness.awaitSource("orders", "Ready", "True", "Ready");
    System.out.printf("apply -> Ready on %s: %d ms%n", version, (System.nanoTime() - started) / 1_000_000);

    var status = ready.getStatus();
    assertThat(status.observedGeneration).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(status.conditions).extracting(c -> c.getType()).doesNotHaveDuplicates()
        .contains("CredentialsResolved", "Connected", "WalLevelLogical", "ReplicationPermitted", "PublicationReady",
            "SlotReady", "SlotHealthy", "WorkerAvailable", "Ready");
    // no worker runs here (the mock API server has no kubelet): its progress is not known, which does not block Ready
    assertThat(status.conditions).filteredOn(c -> !c.getType().equals("WorkerStreaming"))
        .allMatch(c -> c.getStatus().equals("True"), "all conditions True");
    assertThat(condition(status.conditions, "WorkerStreaming")).hasValueSatisfying(c -> {
      assertThat(c.getStatus()).isEqualTo("Unknown");
      assertThat(c.getReason()).isEqualTo("WorkerNotReporting");
    });
    assertThat(status.serverVersion).startsWith(Integer.toString(version.major()));
    assertThat(status.trackedTables).containsExactly("public.orders");
    assertThat(status.trackedTableCount).isEqualTo(1);
    assertThat(status.slot.walStatus).isNotBlank();
    // a single server: the slot has failover on (17+) but nothing to fail over to
    assertThat(status.slot.failover).isEqualTo(version.major() >= 17 ? Boolean.TRUE : null);
    assertThat(status.slot.failoverReady).isFalse();
    assertThat(status.slot.failoverMessage).contains(version.major() >= 17 ? "no physical standby" : "PostgreSQL 17");
    String publication = status.publicationName;
    assertThat(publication).isEqualTo("pgtrail_apps_orders");
    assertThat(status.slotName).isEqualTo(db.slotName);
    assertThat(db.publishedTables(publication)).containsExactly("public.orders");
    assertThat(db.slotExists(status.slotName)).isTrue();
    assertThat(db.replicaIdentity("public.orders")).isEqualTo("f");

    Deployment worker = harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE)
        .withName("orders-worker").get();
    assertThat(worker.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(ready.getMetadata().getUid()));
    assertThat(worker.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(worker.getSpec().getReplicas()).isEqualTo(1);
    var container = worker.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getImage()).isEqualTo("registry.test/pgtrail:test");
    assertThat(container.getArgs()).containsExactly("worker", "--config", "/etc/pgtrail/worker.yaml");
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(worker.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/readyz");
    String hashBefore = worker.getSpec().getTemplate().getMetadata().getAnnotations().get("pgtrail.io/config-hash");
    assertThat(hashBefore).isNotBlank();

    ConfigMap config = harness.client().configMaps().inNamespace(MockCluster.NAMESPACE)
        .withName("orders-worker-config").get();
    String yaml = config.getData().get("worker.yaml");
    assertThat(yaml).contains("slot: " + status.slotName).contains("publication: " + publication)
        .contains("passwordFile: /etc/pgtrail/source/password").contains("orders.updated_at")
        .contains(db.adminUser + "@127.0.0.1:" + db.sourceDb.port() + "/" + db.sourceDb.database())
        .doesNotContain(db.adminPassword);
    Secret workerSecret = harness.client().secrets().inNamespace(MockCluster.NAMESPACE)
        .withName("orders-worker-credentials").get();
    assertThat(SecretData.value(workerSecret, "source-password")).contains(db.adminPassword);
    assertThat(workerSecret.getMetadata().getOwnerReferences()).hasSize(1);

    // a second policy adds a table and an ignored column: the publication and worker config follow
    TrackingPolicy withContext = SourceFixture.policy("customers-policy", "orders", List.of("customers"), List.of());
    withContext.getSpec().captureContext = true;
    withContext.getSpec().ignoreColumns = List.of("customers.name");
    harness.apply(withContext);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(db.publishedTables(publication)).containsExactly("public.customers", "public.orders"));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(harness.client().configMaps()
        .inNamespace(MockCluster.NAMESPACE).withName("orders-worker-config").get().getData().get("worker.yaml"))
        .contains("customers.name").contains("orders.updated_at"));
    assertThat(db.strings("SELECT c.relname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
        + " JOIN pg_class c ON c.oid = t.tgrelid WHERE p.proname = '_bemi_row_trigger_func' ORDER BY 1"))
        .contains("customers");
    TrackingPolicy customers = harness.awaitPolicy("customers-policy", "Ready", "True", "Ready");
    assertThat(customers.getStatus().trackedTables).containsExactly("public.customers");
    assertThat(harness.policy("orders-policy").getStatus().trackedTables).containsExactly("public.orders");

    // the policy goes away: so does its table
    harness.client().resource(customers).delete();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(db.publishedTables(publication)).containsExactly("public.orders"));

    // a rotated password is re-verified and rolls the worker
    String newPassword = db.adminPassword + "-rotated";
    db.execute("ALTER ROLE " + db.adminUser + " PASSWORD '" + newPassword + "'");
    harness.cluster.createSecret(db.secretName, java.util.Map.of("username", db.adminUser, "password", newPassword));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      Deployment rolled = harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE)
          .withName("orders-worker").get();
      assertThat(rolled.getSpec().getTemplate().getMetadata().getAnnotations().get("pgtrail.io/config-hash"))
          .isNotEqualTo(hashBefore);
    });
    harness.awaitSource("orders", "Ready", "True", "Ready");
    db.execute("ALTER ROLE " + db.adminUser + " PASSWORD '" + db.adminPassword + "'");
    harness.cluster.createSecret(db.secretName, java.util.Map.of("username", db.adminUser, "password", db.adminPassword));

    // reclaimPolicy delete: slot and publication dropped, identity restored
    harness.client().resource(harness.source("orders")).delete();
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.source("orders") == null);
    assertThat(db.publicationExists(publication)).isFalse();
    assertThat(db.slotExists(status.slotName)).isFalse();
    assertThat(db.replicaIdentity("public.orders")).isEqualTo("d");
  }

  @Test
  void retainKeepsSlotAndPublicationAndSaysSo() throws Exception {
    harness.apply(SourceFixture.policy("keep-policy", "keep", List.of(), List.of("public")));
    SourceDatabase source = db.source("keep");
    source.getSpec().reclaimPolicy = ReclaimPolicy.RETAIN;
    harness.apply(source);
    SourceDatabase ready = harness.awaitSource("keep", "Ready", "True", "Ready");
    String publication = ready.getStatus().publicationName;
    assertThat(db.publishedTables(publication)).containsExactly("public.customers", "public.orders");

    harness.client().resource(ready).delete();
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.source("keep") == null);
    assertThat(db.publicationExists(publication)).isTrue();
    assertThat(db.slotExists(ready.getStatus().slotName)).isTrue();
    assertThat(harness.cluster.events(ready)).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("ResourcesRetained");
      assertThat(e.getMessage()).contains(publication);
    });
    db.dropLeftovers(ready.getStatus().slotName);
  }
}
