package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.testing.OperatorHarness.condition;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.pgtrail.api.v1alpha1.CredentialsSpec;
import io.pgtrail.api.v1alpha1.ProviderSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.reconciler.trackingpolicy.TrackingPolicyReconciler;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each bad input gives its condition and reason, one Warning Event (not one per retry), no DDL in the
 * database and no crash loop; fixing the input recovers.
 */
class SourceDatabaseFailuresTest {
  static final PgVersion VERSION = PgVersion.primary();

  OperatorHarness harness;
  SourceFixture db;

  @BeforeEach
  void start() {
    harness = new OperatorHarness().startOperator();
    db = SourceFixture.on(VERSION, "failures");
    db.createSecrets(harness.cluster);
    harness.apply(SourceFixture.policy("policy", "src", List.of("orders"), List.of()));
  }

  @AfterEach
  void stop() {
    List<Event> events = harness.cluster.allEvents();
    harness.close();
    db.dropSlots();
    String logs = harness.logs.text();
    assertThat(logs).doesNotContain(db.adminPassword).doesNotContain(db.destinationPassword)
        .doesNotContain("wrong-" + db.adminPassword);
    assertThat(events).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(db.adminPassword));
    assertThat(harness.logs.lines()).noneMatch(l -> l.startsWith("io.pgtrail") && l.contains("failed unexpectedly"));
  }

  /** The condition appears with the reason, its Warning is recorded once, and nothing was created. */
  private SourceDatabase expectFailure(String name, String type, String reason) throws Exception {
    SourceDatabase failed = harness.awaitSource(name, type, "False", reason);
    assertThat(condition(failed.getStatus().conditions, "Ready")).get()
        .satisfies(c -> {
          assertThat(c.getStatus()).isEqualTo("False");
          assertThat(c.getReason()).isEqualTo(reason);
        });
    assertThat(failed.getStatus().conditions).extracting(c -> c.getType()).doesNotHaveDuplicates();
    // it retries (the only SourceDatabase here): three retries later, still one Warning for this failure
    harness.awaitMoreReconciliations(SourceDatabaseReconciler.NAME, 3);
    assertThat(harness.cluster.events(failed)).filteredOn(e -> e.getType().equals("Warning")
        && e.getReason().equals(reason)).hasSize(1);
    assertThat(db.strings("SELECT pubname FROM pg_publication")).isEmpty();
    assertThat(db.strings("SELECT slot_name FROM pg_replication_slots WHERE database = current_database()")).isEmpty();
    assertThat(db.strings("SELECT evtname FROM pg_event_trigger")).isEmpty();
    assertThat(harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE).list().getItems()).isEmpty();
    return failed;
  }

  @Test
  void missingSecretWaitsAndRecoversWhenItAppears() throws Exception {
    SourceDatabase source = db.source("src");
    source.getSpec().connection.credentialsSecretRef.name = "not-yet";
    harness.apply(source);
    SourceDatabase failed = expectFailure("src", "CredentialsResolved", "SecretNotFound");
    assertThat(condition(failed.getStatus().conditions, "CredentialsResolved").get().getMessage())
        .contains("apps/not-yet").contains("create it");
    assertThat(condition(failed.getStatus().conditions, "Connected").get().getStatus()).isEqualTo("Unknown");

    harness.cluster.createSecret("not-yet", Map.of("username", db.adminUser));
    expectFailure("src", "CredentialsResolved", "SecretKeyMissing");

    harness.cluster.createSecret("not-yet", Map.of("username", db.adminUser, "password", db.adminPassword));
    harness.awaitSource("src", "Ready", "True", "Ready");
  }

  @Test
  void wrongPasswordIsAnAuthenticationFailure() throws Exception {
    harness.cluster.createSecret(db.secretName, Map.of("username", db.adminUser, "password", "wrong-" + db.adminPassword));
    harness.apply(db.source("src"));
    SourceDatabase failed = expectFailure("src", "Connected", "AuthenticationFailed");
    assertThat(condition(failed.getStatus().conditions, "Connected").get().getMessage())
        .contains(db.adminUser).contains("password");
  }

  @Test
  void unreachableHostSaysWhere() throws Exception {
    SourceDatabase source = db.source("src");
    source.getSpec().connection.port = LocalPostgres.freePort();
    harness.apply(source);
    SourceDatabase failed = expectFailure("src", "Connected", "Unreachable");
    assertThat(condition(failed.getStatus().conditions, "Connected").get().getMessage())
        .contains("127.0.0.1:" + source.getSpec().connection.port);
  }

  @Test
  void walLevelReplicaGetsTheProvidersFixIt() throws Exception {
    try (LocalPostgres replicaOnly = TestPostgres.start(VERSION, b -> b.walLevel("replica"))) {
      db = new SourceFixture(replicaOnly, "walreplica");
      db.createSecrets(harness.cluster);
      SourceDatabase source = db.source("src");
      source.getSpec().provider = ProviderSpec.AWS_RDS;
      harness.apply(source);
      SourceDatabase failed = expectFailure("src", "WalLevelLogical", "WalLevelNotLogical");
      assertThat(condition(failed.getStatus().conditions, "WalLevelLogical").get().getMessage())
          .contains("wal_level = replica").contains("rds.logical_replication");
    }
  }

  @Test
  void roleWithoutReplicationRightIsNotPermitted() throws Exception {
    String user = "plain_" + ProcessHandle.current().pid() + "_" + System.nanoTime() % 100000;
    String password = db.adminPassword + "-plain";
    db.execute("CREATE ROLE " + user + " LOGIN NOREPLICATION PASSWORD '" + password + "'",
        "ALTER TABLE public.orders OWNER TO " + user);
    harness.cluster.createSecret(db.secretName, Map.of("username", user, "password", password));
    harness.apply(db.source("src"));
    SourceDatabase failed = expectFailure("src", "ReplicationPermitted", "MissingReplicationPrivilege");
    assertThat(condition(failed.getStatus().conditions, "ReplicationPermitted").get().getMessage())
        .contains("REPLICATION");
    assertThat(harness.logs.text()).doesNotContain(password);
  }

  @Test
  void invalidNamesAndProviderRulesAreInvalidSpecWithoutTouchingTheDatabase() throws Exception {
    SourceDatabase badSlot = db.source("src");
    badSlot.getSpec().slotName = "Bad-Slot";
    harness.apply(badSlot);
    SourceDatabase failed = expectFailure("src", "Ready", "InvalidSpec");
    assertThat(condition(failed.getStatus().conditions, "Ready").get().getMessage()).contains("slotName");
    assertThat(condition(failed.getStatus().conditions, "Connected").get().getStatus()).isEqualTo("Unknown");

    SourceDatabase supabaseRole = db.source("src2");
    supabaseRole.getSpec().provider = ProviderSpec.SUPABASE;
    supabaseRole.getSpec().credentials.mode = CredentialsSpec.Mode.MANAGED_ROLE;
    harness.apply(supabaseRole);
    SourceDatabase rejected = harness.awaitSource("src2", "Ready", "False", "InvalidSpec");
    assertThat(condition(rejected.getStatus().conditions, "Ready").get().getMessage()).contains("supabase");
  }

  @Test
  void policyPointingAtAMissingSourceSaysSo() {
    TrackingPolicy orphan = harness.apply(SourceFixture.policy("orphan", "nowhere", List.of("orders"), List.of()));
    TrackingPolicy failed = harness.awaitPolicy("orphan", "SourceResolved", "False", "SourceNotFound");
    assertThat(condition(failed.getStatus().conditions, "Ready").get().getReason()).isEqualTo("SourceNotFound");
    // two orphaned policies (this one and the one start() applied) retry every second: six reconciliations
    // of the controller are several retries of each
    harness.awaitMoreReconciliations(TrackingPolicyReconciler.NAME, 6);
    assertThat(harness.cluster.events(orphan)).filteredOn(e -> e.getReason().equals("SourceNotFound")).hasSize(1);
  }

  @Test
  void aSecondSourceClaimingTheSamePublicationIsAConflictAndTouchesNothing() throws Exception {
    SourceDatabase first = db.source("src");
    first.getSpec().publicationName = "shared_pub";
    first.getSpec().slotName = "shared_slot";
    harness.apply(first);
    SourceDatabase ready = harness.awaitSource("src", "Ready", "True", "Ready");
    String markerBefore = db.strings("SELECT obj_description(oid, 'pg_publication') FROM pg_publication").get(0);

    harness.apply(SourceFixture.policy("policy2", "src2", List.of("customers"), List.of()));
    SourceDatabase second = db.source("src2");
    second.getSpec().publicationName = "shared_pub";
    second.getSpec().slotName = "shared_slot";
    harness.apply(second);
    SourceDatabase conflicted = harness.awaitSource("src2", "PublicationReady", "False", "Conflict");
    assertThat(condition(conflicted.getStatus().conditions, "Ready").get().getReason()).isEqualTo("Conflict");
    // src2 retries every second, the Ready src resyncs every 5 s: six reconciliations are several retries of src2
    harness.awaitMoreReconciliations(SourceDatabaseReconciler.NAME, 6);
    assertThat(harness.cluster.events(conflicted)).filteredOn(e -> e.getReason().equals("Conflict")).hasSize(1);
    assertThat(db.publishedTables("shared_pub")).containsExactly("public.orders");
    assertThat(db.strings("SELECT obj_description(oid, 'pg_publication') FROM pg_publication").get(0))
        .isEqualTo(markerBefore);
    assertThat(harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE).withName("src2-worker").get())
        .isNull();

    // deleting the conflicting source leaves the first one's objects alone
    harness.client().resource(conflicted).delete();
    await().atMost(Duration.ofSeconds(15)).until(() -> harness.source("src2") == null);
    assertThat(db.publishedTables("shared_pub")).containsExactly("public.orders");
    assertThat(db.slotExists("shared_slot")).isTrue();
    assertThat(db.strings("SELECT obj_description(oid, 'pg_publication') FROM pg_publication").get(0))
        .isEqualTo(markerBefore);
    harness.awaitSource("src", "Ready", "True", "Ready");
    assertThat(ready.getMetadata().getUid()).isNotEqualTo(conflicted.getMetadata().getUid());
    harness.client().resource(harness.source("src")).delete();
    await().atMost(Duration.ofSeconds(15)).until(() -> harness.source("src") == null);
    assertThat(db.slotExists("shared_slot")).isFalse();
  }
}
