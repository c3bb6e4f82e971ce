package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.pgtrail.api.v1alpha1.CredentialsSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Drift repair, operator restarts, the retained-WAL guardrail, managed roles, forced deletion. */
class SourceDatabaseResilienceTest {
  static final PgVersion VERSION = PgVersion.primary();

  OperatorHarness harness;
  SourceFixture db;

  @BeforeEach
  void start() {
    harness = new OperatorHarness();
    db = SourceFixture.on(VERSION, "resilience");
    db.createSecrets(harness.cluster);
  }

  @AfterEach
  void stop() {
    var events = harness.cluster.allEvents();
    harness.close();
    db.dropSlots();
    assertThat(harness.logs.text()).doesNotContain(db.adminPassword).doesNotContain(db.destinationPassword);
    assertThat(events).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(db.adminPassword));
  }

  @Test
  void resyncPutsBackWhatWasChangedByHand() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders", "customers"), List.of()));
    SourceDatabase ready = harness.apply(db.source("src"));
    ready = harness.awaitSource("src", "Ready", "True", "Ready");
    String publication = ready.getStatus().publicationName;

    db.execute("ALTER PUBLICATION " + publication + " DROP TABLE public.customers",
        "ALTER TABLE public.orders REPLICA IDENTITY DEFAULT");
    SourceDatabase finalReady = ready;
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(db.publishedTables(publication)).containsExactly("public.customers", "public.orders");
      assertThat(db.replicaIdentity("public.orders")).isEqualTo("f");
      assertThat(harness.cluster.events(finalReady)).anySatisfy(e -> {
        assertThat(e.getType()).isEqualTo("Normal");
        assertThat(e.getReason()).isEqualTo("DriftRepaired");
      });
    });
  }

  @Test
  void aTableWhoseWritesPublishingWouldBreakIsLeftOutWithAWarning() throws Exception {
    db.execute("ALTER TABLE public.customers REPLICA IDENTITY NOTHING");
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders", "customers"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");

    assertThat(condition(ready.getStatus().conditions, "PublicationReady").get().getMessage())
        .contains("public.customers is left out of tracking");
    assertThat(db.publishedTables(ready.getStatus().publicationName)).containsExactly("public.orders");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(harness.cluster.events(ready))
        .anySatisfy(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getReason()).isEqualTo("TablesLeftOut");
        }));
    db.execute("UPDATE public.customers SET id = id");
  }

  @Test
  void aPublicationDroppedByHandIsPutBackAndTheSlotKept() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders", "customers"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    String publication = ready.getStatus().publicationName;

    db.execute("DROP PUBLICATION " + publication);

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(db.publishedTables(publication)).containsExactly("public.customers", "public.orders");
      assertThat(harness.cluster.events(ready)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("DriftRepaired"));
    });
    assertThat(db.slotExists(db.slotName)).isTrue();
    harness.awaitSource("src", "Ready", "True", "Ready");
  }

  @Test
  void aSlotLostInAFailoverIsCreatedAgainWithAWarningAboutTheGap() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.cluster.client().resources(SourceDatabase.class)
        .inNamespace(ready.getMetadata().getNamespace()).withName("src").get().getStatus().slot != null);

    db.dropLeftovers(db.slotName); // what a promotion of a standby without slot synchronization looks like

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(harness.cluster.events(ready)).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("SlotRecreated");
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).contains("was missing", "records that gap", "docs/high-availability.md");
    }));
    assertThat(db.slotExists(db.slotName)).isTrue();
  }

  @Test
  void operatorRestartMidReconcileConverges() throws Exception {
    harness.cluster.workersBecomeAvailable(false);
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase halfway = harness.awaitSource("src", "WorkerAvailable", "False", "WorkerStarting");
    assertThat(condition(halfway.getStatus().conditions, "PublicationReady").get().getStatus()).isEqualTo("True");
    harness.stopOperator();

    harness.cluster.workersBecomeAvailable(true);
    harness.startOperator();
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    // a reconcile posts its events after writing the status: one more finished reconcile, and those of the one
    // that wrote Ready are all there
    harness.awaitMoreReconciliations(SourceDatabaseReconciler.NAME, 1);
    assertThat(ready.getStatus().conditions).extracting(c -> c.getType()).doesNotHaveDuplicates();
    assertThat(harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE).list().getItems()).hasSize(1);
    assertThat(harness.cluster.events(ready)).noneMatch(e -> e.getReason().equals("DriftRepaired"));
    assertThat(db.publishedTables(ready.getStatus().publicationName)).containsExactly("public.orders");
  }

  @Test
  void operatorRestartMidDeletionStillCompletesIt() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    harness.stopOperator();

    harness.client().resource(ready).delete();
    SourceDatabase deleting = harness.source("src");
    assertThat(deleting.getMetadata().getDeletionTimestamp()).isNotNull();
    assertThat(deleting.getMetadata().getFinalizers()).contains("pgtrail.io/cleanup");

    harness.startOperator();
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.source("src") == null);
    assertThat(db.slotExists(ready.getStatus().slotName)).isFalse();
    assertThat(db.publicationExists(ready.getStatus().publicationName)).isFalse();
  }

  @Test
  void anUnreachableSourceDoesNotBlockDeletionWithTheSkipAnnotation() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");

    // the database becomes unreachable: credentials now point nowhere useful
    harness.cluster.createSecret(db.secretName, Map.of("username", db.adminUser, "password", "gone"));
    harness.client().resource(ready).delete();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(harness.cluster.events(ready))
        .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("CleanupFailed")));
    assertThat(harness.source("src")).isNotNull();

    SourceDatabase stuck = harness.source("src");
    stuck.getMetadata().setAnnotations(Map.of("pgtrail.io/skip-cleanup", "true"));
    harness.client().resource(stuck).update();
    await().atMost(Duration.ofSeconds(15)).until(() -> harness.source("src") == null);
    assertThat(harness.cluster.events(ready)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("CleanupAbandoned"));
    db.dropLeftovers(ready.getStatus().slotName);
  }

  @Test
  void aPolicyMovedToAnotherSourceLeavesTheOldOneAtOnce() throws Exception {
    // resync far away: only watch events can explain a change within seconds
    harness.withOptions(o -> o.withIntervals(Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofMinutes(15)))
        .startOperator();
    harness.apply(SourceFixture.policy("base-a", "a", List.of("orders"), List.of()));
    harness.apply(SourceFixture.policy("base-b", "b", List.of("orders"), List.of()));
    harness.apply(SourceFixture.policy("mover", "a", List.of("customers"), List.of()));
    SourceDatabase a = db.source("a");
    a.getSpec().publicationName = "pub_a";
    a.getSpec().slotName = db.slotName + "_a";
    SourceDatabase b = db.source("b");
    b.getSpec().publicationName = "pub_b";
    b.getSpec().slotName = db.slotName + "_b";
    harness.apply(a);
    harness.apply(b);
    harness.awaitSource("a", "Ready", "True", "Ready");
    harness.awaitSource("b", "Ready", "True", "Ready");
    assertThat(db.publishedTables("pub_a")).containsExactly("public.customers", "public.orders");

    var mover = harness.policy("mover");
    mover.getSpec().sourceRef.name = "b";
    harness.client().resource(mover).update();
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(db.publishedTables("pub_b")).containsExactly("public.customers", "public.orders");
      assertThat(db.publishedTables("pub_a")).containsExactly("public.orders");
    });
  }

  @Test
  void cleanupGivesUpAfterTheTimeout() throws Exception {
    harness.withOptions(o -> o.withIntervals(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(3)))
        .startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    harness.apply(db.source("src"));
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    harness.cluster.createSecret(db.secretName, Map.of("username", db.adminUser, "password", "gone"));
    harness.client().resource(ready).delete();
    await().atMost(Duration.ofSeconds(20)).until(() -> harness.source("src") == null);
    assertThat(harness.cluster.events(ready)).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("CleanupFailed"));
    assertThat(harness.cluster.events(ready)).anySatisfy(e -> {
      assertThat(e.getReason()).isEqualTo("CleanupAbandoned");
      assertThat(e.getMessage()).contains(ready.getStatus().slotName);
    });
    assertThat(db.slotExists(ready.getStatus().slotName)).isTrue();
  }

  @Test
  void retainedWalAboveTheLimitIsAWarning() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    SourceDatabase source = db.source("src");
    source.getSpec().maxRetainedWal = new Quantity("64Ki");
    harness.apply(source);
    harness.awaitSource("src", "SlotReady", "True", null);
    // nobody consumes the slot: writing WAL makes it retain more than 64Ki
    db.execute("INSERT INTO public.orders SELECT g, g, now() FROM generate_series(1, 5000) g");
    SourceDatabase unhealthy = harness.awaitSource("src", "SlotHealthy", "False", "RetainedWalTooLarge");
    assertThat(condition(unhealthy.getStatus().conditions, "Ready").get().getReason()).isEqualTo("RetainedWalTooLarge");
    assertThat(unhealthy.getStatus().slot.retainedWalBytes).isGreaterThan(64 * 1024L);
    // the Warning is posted right after the status is written
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(harness.cluster.events(unhealthy)).anySatisfy(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getReason()).isEqualTo("RetainedWalTooLarge");
    }));
  }

  @Test
  void managedRoleIsCreatedAndTheWorkerUsesIt() throws Exception {
    harness.startOperator();
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
    SourceDatabase source = db.source("src");
    source.getSpec().credentials.mode = CredentialsSpec.Mode.MANAGED_ROLE;
    source.getSpec().credentials.roleName = "pgtrail_role_" + ProcessHandle.current().pid();
    harness.apply(source);
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    assertThat(ready.getStatus().replicationUser).isEqualTo(source.getSpec().credentials.roleName);

    Secret roleSecret = harness.client().secrets().inNamespace(MockCluster.NAMESPACE)
        .withName(ready.getStatus().managedRoleSecret).get();
    assertThat(roleSecret.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(ready.getMetadata().getUid()));
    String rolePassword = SecretData.value(roleSecret, "password").orElseThrow();
    // the generated password really logs in, with the replication right
    try (Connection c = PgConnections.open(db.sourceDb.withUser(source.getSpec().credentials.roleName, rolePassword));
        var rs = c.createStatement().executeQuery("SELECT rolreplication FROM pg_roles WHERE rolname = current_user")) {
      rs.next();
      assertThat(rs.getBoolean(1)).isTrue();
    }
    Secret workerSecret = harness.client().secrets().inNamespace(MockCluster.NAMESPACE)
        .withName("src-worker-credentials").get();
    assertThat(SecretData.value(workerSecret, "source-password")).contains(rolePassword);
    assertThat(harness.client().configMaps().inNamespace(MockCluster.NAMESPACE).withName("src-worker-config").get()
        .getData().get("worker.yaml")).contains(source.getSpec().credentials.roleName + "@");
    assertThat(harness.logs.text()).doesNotContain(rolePassword);
    assertThat(harness.cluster.allEvents()).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(rolePassword));
  }
}
