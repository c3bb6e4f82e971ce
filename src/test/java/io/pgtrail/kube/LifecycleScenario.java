package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.api.v1alpha1.DestinationEndpointSpec;
import io.pgtrail.api.v1alpha1.LocalObjectRef;
import io.pgtrail.api.v1alpha1.PostgresEndpointSpec;
import io.pgtrail.api.v1alpha1.ProviderSpec;
import io.pgtrail.api.v1alpha1.ReclaimPolicy;
import io.pgtrail.api.v1alpha1.SourceConnectionSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.Endpoints;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The operator's lifecycle on a cluster, shared by the tiers that have one: a SourceDatabase and a
 * TrackingPolicy become Ready against real PostgreSQL, the worker objects are owned by the source, events are
 * written without secrets, a policy change rolls the worker, deletion drops slot and publication and the
 * owned objects are collected. {@link ApiServerOperatorIT} runs it on kube-apiserver built from source (no
 * pods run); the k3s profile's {@code K3sLifecycleIT} on a whole cluster, where the worker really streams.
 */
final class LifecycleScenario {
  /** PostgreSQL as the test reaches it (superuser), and as the operator and its workers reach it. */
  interface Postgres {
    ConnectionSettings newDatabase(String prefix);

    void execute(ConnectionSettings database, String... statements);

    /** The host and port the cluster's pods use for {@code database} (the test's own may differ). */
    ConnectionSettings asSeenFromCluster(ConnectionSettings database);
  }

  /** The running operator, as far as the scenario needs it. */
  interface Operator {
    boolean isAlive();

    /** What to read when a condition is not reached (refused requests, where the log is). */
    String diagnostics() throws IOException;
  }

  /** The worker Deployment as it was when the source became Ready, and the passwords no log may show. */
  record Outcome(Deployment worker, List<String> passwords) {}

  private final KubernetesClient admin;
  private final String namespace;
  private final Postgres postgres;
  private final Operator operator;
  private final boolean workersRun;

  /** {@code workersRun}: pods really run (a whole cluster), so the worker must stream and write the trail. */
  LifecycleScenario(KubernetesClient admin, String namespace, Postgres postgres, Operator operator,
      boolean workersRun) {
    this.admin = admin;
    this.namespace = namespace;
    this.postgres = postgres;
    this.operator = operator;
    this.workersRun = workersRun;
  }

  Outcome run() throws Exception {
    long started = System.nanoTime();
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    ConnectionSettings source = postgres.newDatabase("kube_source");
    ConnectionSettings destination = postgres.newDatabase("kube_audit");
    String user = "kube_admin_" + suffix;
    String password = "KubePw-" + UUID.randomUUID();
    String auditUser = "kube_audit_" + suffix;
    String auditPassword = "KubeAuditPw-" + UUID.randomUUID();
    postgres.execute(source,
        "CREATE TABLE public.orders (id bigint PRIMARY KEY, total numeric)",
        "CREATE ROLE " + user + " LOGIN SUPERUSER PASSWORD '" + password + "'",
        "CREATE ROLE " + auditUser + " LOGIN PASSWORD '" + auditPassword + "'");
    postgres.execute(destination, "GRANT CREATE ON SCHEMA public TO " + auditUser);
    // stringData, as users write Secrets: the real API server folds it into data
    createSecret("orders-db", Map.of("username", user, "password", password));
    createSecret("audit-db", Map.of("username", auditUser, "password", auditPassword));

    String slot = "pgtrail_kube_" + suffix;
    admin.resource(policy("orders-policy", "orders")).create();
    SourceDatabase created = admin.resource(sourceDatabase("orders", postgres.asSeenFromCluster(source),
        postgres.asSeenFromCluster(destination), slot)).create();

    SourceDatabase ready = awaitCondition(SourceDatabase.class, "orders", "Ready", "True");
    TrackingPolicy policy = awaitCondition(TrackingPolicy.class, "orders-policy", "Ready", "True");
    System.out.printf("%s: apply -> Ready in %d ms%n", admin.getMasterUrl(), (System.nanoTime() - started) / 1_000_000);

    assertThat(ready.getStatus().observedGeneration).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(ready.getStatus().conditions).extracting(Condition::getType).doesNotHaveDuplicates()
        .contains("Connected", "PublicationReady", "SlotReady", "WorkerAvailable", "Ready");
    // the worker's progress does not block Ready: it is only known once a worker runs and reports
    assertThat(ready.getStatus().conditions).filteredOn(c -> !c.getType().equals("WorkerStreaming"))
        .allSatisfy(c -> assertThat(c.getStatus()).as(c.getType()).isEqualTo("True"));
    assertThat(ready.getMetadata().getFinalizers()).isNotEmpty();
    assertThat(policy.getStatus().trackedTables).containsExactly("public.orders");
    assertThat(Db.scalar(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
        .isEqualTo(1L);
    if (workersRun) {
      assertTheWorkerWritesTheTrail(source, destination);
    } else {
      assertThat(ready.getStatus().conditions).filteredOn(c -> c.getType().equals("WorkerStreaming"))
          .singleElement().satisfies(c -> assertThat(c.getReason()).isEqualTo("WorkerNotReporting"));
    }

    Deployment worker = admin.apps().deployments().inNamespace(namespace).withName("orders-worker").get();
    ConfigMap config = admin.configMaps().inNamespace(namespace).withName("orders-worker-config").get();
    Secret credentials = admin.secrets().inNamespace(namespace).withName("orders-worker-credentials").get();
    for (var owned : List.of(worker, config, credentials)) {
      assertThat(owned.getMetadata().getOwnerReferences()).as(owned.getMetadata().getName()).singleElement()
          .satisfies(o -> assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid()));
    }
    List<Event> events = admin.v1().events().inNamespace(namespace).list().getItems();
    assertThat(events).filteredOn(e -> e.getInvolvedObject().getName().equals("orders"))
        .extracting(Event::getReason).isNotEmpty();
    assertThat(events).allSatisfy(e -> assertThat(e.getMessage()).doesNotContain(password, auditPassword));

    // a policy change reaches the worker: its ConfigMap is updated and the Deployment rolls (config hash)
    String hash = configHash(worker);
    policy.getSpec().ignoreColumns = List.of("orders.total");
    policy = admin.resource(policy).update();
    await("worker rolled").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        !hash.equals(configHash(admin.apps().deployments().inNamespace(namespace)
            .withName("orders-worker").get())));
    assertThat(admin.configMaps().inNamespace(namespace).withName("orders-worker-config").get().getData()
        .get("worker.yaml")).contains("orders.total");
    ready = awaitCondition(SourceDatabase.class, "orders", "Ready", "True");

    // deletion: the finalizer drops slot and publication (reclaimPolicy delete), then lets go
    admin.resource(policy).delete();
    admin.resource(ready).delete();
    await("SourceDatabase gone").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        admin.resources(SourceDatabase.class).inNamespace(namespace).withName("orders").get() == null
            && admin.resources(TrackingPolicy.class).inNamespace(namespace).withName("orders-policy").get()
                == null);
    assertThat(Db.scalar(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
        .isEqualTo(0L);
    // the operator deletes the worker first (it holds the slot); the garbage collector takes the rest
    await("owned objects collected").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
        admin.apps().deployments().inNamespace(namespace).withName("orders-worker").get() == null
            && admin.configMaps().inNamespace(namespace).withName("orders-worker-config").get() == null
            && admin.secrets().inNamespace(namespace).withName("orders-worker-credentials").get() == null);
    assertThat(Db.scalar(source, "SELECT count(*) FROM pg_publication WHERE pubname = '"
        + ready.getStatus().publicationName + "'")).isEqualTo(0L);
    return new Outcome(worker, List.of(password, auditPassword));
  }

  /** A running worker streams (its progress report reaches the status) and a committed row lands in changes. */
  private void assertTheWorkerWritesTheTrail(ConnectionSettings source, ConnectionSettings destination)
      throws Exception {
    awaitCondition(SourceDatabase.class, "orders", "WorkerStreaming", "True");
    postgres.execute(source, "INSERT INTO public.orders VALUES (1, 9.90)");
    await("the insert in the destination's changes").atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(500)).until(() -> Db.scalar(destination,
            "SELECT count(*) FROM changes WHERE \"table\" = 'orders' AND operation = 'CREATE'").equals(1L));
  }

  /** The chart's default log format is JSON: its lines must read as messages, not as "{} event {}" templates. */
  static void assertOperatorLog(String log, String namespace, Outcome outcome) {
    assertThat(log).contains("\"formattedMessage\":\"Normal event Ready on SourceDatabase " + namespace)
        .doesNotContain(outcome.passwords().toArray(String[]::new));
  }

  static String configHash(Deployment deployment) {
    return deployment.getSpec().getTemplate().getMetadata().getAnnotations().get("pgtrail.io/config-hash");
  }

  private void createSecret(String name, Map<String, String> values) {
    admin.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(name)
        .endMetadata().withStringData(values).build()).create();
  }

  private SourceDatabase sourceDatabase(String name, ConnectionSettings source, ConnectionSettings destination,
      String slot) {
    SourceDatabase resource = new SourceDatabase();
    resource.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    SourceDatabaseSpec spec = new SourceDatabaseSpec();
    spec.provider = ProviderSpec.SELF_MANAGED;
    spec.connection = Endpoints.of(new SourceConnectionSpec(), source, "orders-db");
    spec.destination = Endpoints.of(new DestinationEndpointSpec(), destination, "audit-db");
    spec.reclaimPolicy = ReclaimPolicy.DELETE;
    spec.slotName = slot;
    resource.setSpec(spec);
    return resource;
  }

  private TrackingPolicy policy(String name, String source) {
    TrackingPolicy resource = new TrackingPolicy();
    resource.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    TrackingPolicySpec spec = new TrackingPolicySpec();
    spec.sourceRef = new LocalObjectRef(source);
    spec.tables = List.of("public.orders");
    resource.setSpec(spec);
    return resource;
  }

  private <T extends HasMetadata> T awaitCondition(Class<T> type, String name, String conditionType, String status)
      throws IOException {
    String what = type.getSimpleName() + " " + name + " " + conditionType + "=" + status;
    try {
      await(what).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
          .failFast("the operator exited", () -> !operator.isAlive())
          .until(() -> hasCondition(admin.resources(type).inNamespace(namespace).withName(name).get(), conditionType,
              status));
    } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
      throw new AssertionError(what + " not reached; " + operator.diagnostics() + "; status: "
          + admin.resources(type).inNamespace(namespace).withName(name).get(), e);
    }
    return admin.resources(type).inNamespace(namespace).withName(name).get();
  }

  private static boolean hasCondition(HasMetadata resource, String conditionType, String status) {
    List<Condition> conditions = resource instanceof SourceDatabase s && s.getStatus() != null
        ? s.getStatus().conditions
        : resource instanceof TrackingPolicy p && p.getStatus() != null ? p.getStatus().conditions : null;
    return conditions != null && conditions.stream()
        .anyMatch(c -> c.getType().equals(conditionType) && c.getStatus().equals(status));
  }
}
