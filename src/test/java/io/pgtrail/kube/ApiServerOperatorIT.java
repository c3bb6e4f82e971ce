package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.pgtrail.api.v1alpha1.LocalObjectRef;
import io.pgtrail.api.v1alpha1.PostgresEndpoint;
import io.pgtrail.api.v1alpha1.Provider;
import io.pgtrail.api.v1alpha1.ReclaimPolicy;
import io.pgtrail.api.v1alpha1.SourceConnection;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.helm.Helm;
import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.Endpoints;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real-API-server tier: the operator started as in production (its own JVM, `pgtrail operator`, the chart's
 * args and environment) against a real kube-apiserver in RBAC mode, authenticated as the chart's
 * ServiceAccount with exactly the chart's Roles. A SourceDatabase and a TrackingPolicy become Ready against
 * real PostgreSQL, worker objects, status and events are written, deletion cleans up. The audit log then
 * shows every request the operator made: a refused one fails the test, a granted permission it never used
 * is flagged.
 */
@Tag("kube-apiserver")
@ExtendWith(KubeBinaries.Required.class)
class ApiServerOperatorIT {
  /** Granted by the chart but not exercised by this scenario, each for a stated reason. */
  static final Map<String, String> UNUSED_BY_THIS_SCENARIO = Map.of(
      "coordination.k8s.io leases update", "JOSDK checks get, create and update on Leases (SelfSubjectRulesReview)"
          + " before it starts leader election; Fabric8 then renews by patch",
      "core secrets update", "rotated credentials rewrite the worker's Secret (SourceDatabaseLifecycleTest)",
      "core configmaps get", "read from the informer cache; a GET only when a create finds the object already"
          + " there (cache behind, OwnedResources.apply)");

  /**
   * A way to install the chart: the release namespace (each variant its own, so each has its own
   * ServiceAccount user in the audit log and its own Lease), the namespace the custom resources live in,
   * and extra helm arguments.
   */
  record Variant(String name, String releaseNamespace, String workloadNamespace, List<String> helmArguments) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Variant> variants() {
    return Stream.of(
        new Variant("default values: ClusterRole, all namespaces watched", Helm.NAMESPACE, "shop", List.of()),
        new Variant("watchNamespaces: one Role per watched namespace", "pgtrail-team", "team-a",
            List.of("--namespace", "pgtrail-team", "--set", "watchNamespaces={team-a}")));
  }

  KubeApiServer server;
  KubernetesClient admin;
  String namespace;
  String serviceAccountUser;
  OperatorProcess operator;

  @ParameterizedTest
  @MethodSource("variants")
  void sourceAndPolicyBecomeReadyWithTheChartsPermissionsAndDeletionCleansUp(Variant variant) throws Exception {
    server = ClusterManifests.clusterWithCrds(variant.releaseNamespace(), variant.workloadNamespace());
    admin = server.admin();
    namespace = variant.workloadNamespace();
    List<JsonNode> chart = Helm.render(variant.helmArguments().toArray(String[]::new));
    String serviceAccount = installServiceAccountAndRbac(chart, variant.releaseNamespace());
    String token = server.serviceAccountToken(variant.releaseNamespace(), serviceAccount);
    serviceAccountUser = "system:serviceaccount:" + variant.releaseNamespace() + ":" + serviceAccount;
    try (SharedIndexInformer<Deployment> deployments = standInDeploymentController();
        OperatorProcess started = OperatorProcess.start(only(chart, "Deployment"), variant.releaseNamespace(),
            server.kubeconfig(token, variant.releaseNamespace()), freePort(), server.directory())) {
      operator = started;
      Deployment worker = lifecycle(operator);
      assertOperatorUsedExactlyTheChartsPermissions(chart, serviceAccountUser, worker);
    }
  }

  /** Creates what the chart renders for the operator's identity: ServiceAccount, (Cluster)Roles, bindings. */
  String installServiceAccountAndRbac(List<JsonNode> chart, String releaseNamespace) {
    ApiRequests asAdmin = new ApiRequests(server, server.adminToken());
    for (JsonNode manifest : chart) {
      if (Set.of("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
          .contains(manifest.path("kind").asText())) {
        String objectNamespace = manifest.path("metadata").path("namespace").asText(releaseNamespace);
        ClusterManifests.ensureNamespace(server, objectNamespace);
        ApiRequests.Response created = asAdmin.apply(manifest, objectNamespace, null, "helm", true, false);
        assertThat(created.succeeded()).as(created.message()).isTrue();
      }
    }
    return only(chart, "ServiceAccount").path("metadata").path("name").asText();
  }

  Deployment lifecycle(OperatorProcess operator) throws Exception {
    long started = System.nanoTime();
    LocalPostgres postgres = TestPostgres.shared(PgVersion.primary());
    String suffix = UUID.randomUUID().toString().replace("-", "").substring(0, 8);
    ConnectionSettings source = TestPostgres.newDatabase(postgres, "kube_source");
    ConnectionSettings destination = TestPostgres.newDatabase(postgres, "kube_audit");
    String user = "kube_admin_" + suffix;
    String password = "KubePw-" + UUID.randomUUID();
    String auditUser = "kube_audit_" + suffix;
    String auditPassword = "KubeAuditPw-" + UUID.randomUUID();
    postgres.execute(source.database(),
        "CREATE TABLE public.orders (id bigint PRIMARY KEY, total numeric)",
        "CREATE ROLE " + user + " LOGIN SUPERUSER PASSWORD '" + password + "'",
        "CREATE ROLE " + auditUser + " LOGIN PASSWORD '" + auditPassword + "'");
    postgres.execute(destination.database(), "GRANT CREATE ON SCHEMA public TO " + auditUser);
    // stringData, as users write Secrets: the real API server folds it into data
    createSecret("orders-db", Map.of("username", user, "password", password));
    createSecret("audit-db", Map.of("username", auditUser, "password", auditPassword));

    String slot = "pgtrail_kube_" + suffix;
    admin.resource(policy("orders-policy", "orders")).create();
    SourceDatabase created = admin.resource(sourceDatabase("orders", source, destination, slot)).create();

    SourceDatabase ready = awaitCondition(SourceDatabase.class, "orders", "Ready", "True");
    TrackingPolicy policy = awaitCondition(TrackingPolicy.class, "orders-policy", "Ready", "True");
    System.out.printf("real API server: apply -> Ready in %d ms%n", (System.nanoTime() - started) / 1_000_000);

    assertThat(ready.getStatus().observedGeneration).isEqualTo(ready.getMetadata().getGeneration());
    assertThat(ready.getStatus().conditions).extracting(Condition::getType).doesNotHaveDuplicates()
        .contains("Connected", "PublicationReady", "SlotReady", "WorkerAvailable", "Ready");
    // no worker runs (nothing runs pods here): its progress is not known, which does not block Ready
    assertThat(ready.getStatus().conditions).filteredOn(c -> !c.getType().equals("WorkerStreaming"))
        .allSatisfy(c -> assertThat(c.getStatus()).as(c.getType()).isEqualTo("True"));
    assertThat(ready.getStatus().conditions).filteredOn(c -> c.getType().equals("WorkerStreaming"))
        .singleElement().satisfies(c -> assertThat(c.getReason()).isEqualTo("WorkerNotReporting"));
    assertThat(ready.getMetadata().getFinalizers()).isNotEmpty();
    assertThat(policy.getStatus().trackedTables).containsExactly("public.orders");
    assertThat(Db.scalar(source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'"))
        .isEqualTo(1L);

    Deployment worker = admin.apps().deployments().inNamespace(namespace).withName("orders-worker").get();
    ConfigMap config = admin.configMaps().inNamespace(namespace).withName("orders-worker-config").get();
    Secret credentials = admin.secrets().inNamespace(namespace).withName("orders-worker-credentials").get();
    for (var owned : List.of(worker, config, credentials)) {
      assertThat(owned.getMetadata().getOwnerReferences()).as(owned.getMetadata().getName()).singleElement()
          .satisfies(o -> assertThat(o.getUid()).isEqualTo(created.getMetadata().getUid()));
    }
    ApiRequests.Response workerPod = ClusterManifests.dryRunPodUnderRestrictedProfile(server,
        ApiRequests.JSON.valueToTree(worker.getSpec().getTemplate()), "worker");
    assertThat(workerPod.succeeded()).as("the worker pod under Pod Security 'restricted': %s", workerPod.message())
        .isTrue();
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

    // 143 = 128 + SIGTERM: the JVM's status after its shutdown hooks ran (what the kubelet sees on a clean stop)
    assertThat(operator.terminate(Duration.ofSeconds(30))).as("operator exit code after SIGTERM").isEqualTo(143);
    // the chart's default log format is JSON: its lines must read as messages, not as "{} event {}" templates
    assertThat(operator.output()).contains("pgtrail operator stopping")
        .contains("\"formattedMessage\":\"Normal event Ready on SourceDatabase " + namespace)
        .doesNotContain(password, auditPassword);
    return worker;
  }

  /** A refused request fails; a granted permission that was never used is flagged (listed, and fails unless known). */
  void assertOperatorUsedExactlyTheChartsPermissions(List<JsonNode> chart, String serviceAccountUser,
      Deployment worker) throws Exception {
    List<JsonNode> audit = server.auditEvents();
    Set<String> forbidden = Permissions.forbidden(audit, serviceAccountUser);
    assertThat(forbidden).as("requests the chart's RBAC refused (see %s)", server.auditLogFile()).isEmpty();

    Set<String> used = new TreeSet<>(Permissions.requested(audit, serviceAccountUser));
    // blockOwnerDeletion on an owner reference is authorized (OwnerReferencesPermissionEnforcement) as
    // update on the owner's finalizers subresource: no request of its own in the audit log
    if (worker.getMetadata().getOwnerReferences().stream().anyMatch(o -> Boolean.TRUE.equals(o.getBlockOwnerDeletion()))) {
      used.add(Permissions.permission("pgtrail.io", "sourcedatabases/finalizers", "update"));
    }
    Set<String> granted = Permissions.granted(chart);
    Set<String> unused = new TreeSet<>(granted);
    unused.removeAll(used);
    System.out.println("operator used: " + used);
    System.out.println("chart grants, unused here: " + unused);
    assertThat(granted).as("every request the operator made is granted by the chart").containsAll(used);
    assertThat(UNUSED_BY_THIS_SCENARIO.keySet()).as("granted permissions this scenario never used").containsAll(unused);
  }

  static String configHash(Deployment deployment) {
    return deployment.getSpec().getTemplate().getMetadata().getAnnotations().get("pgtrail.io/config-hash");
  }

  // ---- the cluster around the operator --------------------------------------------------------------

  /** Stands in for the deployment controller and kubelet: reports each worker Deployment's generation rolled out. */
  SharedIndexInformer<Deployment> standInDeploymentController() {
    return admin.apps().deployments().inNamespace(namespace).inform(new ResourceEventHandler<>() {
      @Override
      public void onAdd(Deployment deployment) {
        markAvailable(deployment);
      }

      @Override
      public void onUpdate(Deployment before, Deployment deployment) {
        markAvailable(deployment);
      }

      @Override
      public void onDelete(Deployment deployment, boolean unknownFinalStateUnknown) {
        // nothing runs
      }
    });
  }

  void markAvailable(Deployment deployment) {
    Long generation = deployment.getMetadata().getGeneration();
    if (deployment.getStatus() != null && generation.equals(deployment.getStatus().getObservedGeneration())) {
      return;
    }
    deployment.setStatus(new DeploymentStatusBuilder().withObservedGeneration(generation).withReplicas(1)
        .withReadyReplicas(1).withAvailableReplicas(1).withUpdatedReplicas(1).build());
    try {
      admin.apps().deployments().inNamespace(namespace).resource(deployment).updateStatus();
    } catch (RuntimeException e) {
      // changed meanwhile: the informer brings the newer version
    }
  }

  void createSecret(String name, Map<String, String> values) {
    admin.secrets().inNamespace(namespace).resource(new SecretBuilder().withNewMetadata().withName(name)
        .endMetadata().withStringData(values).build()).create();
  }

  SourceDatabase sourceDatabase(String name, ConnectionSettings source, ConnectionSettings destination,
      String slot) {
    SourceDatabase resource = new SourceDatabase();
    resource.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    SourceDatabaseSpec spec = new SourceDatabaseSpec();
    spec.provider = Provider.SELF_MANAGED;
    spec.connection = Endpoints.of(new SourceConnection(), source, "orders-db");
    spec.destination = Endpoints.of(new io.pgtrail.api.v1alpha1.DestinationEndpoint(), destination, "audit-db");
    spec.reclaimPolicy = ReclaimPolicy.DELETE;
    spec.slotName = slot;
    resource.setSpec(spec);
    return resource;
  }


  TrackingPolicy policy(String name, String source) {
    TrackingPolicy resource = new TrackingPolicy();
    resource.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(namespace).build());
    TrackingPolicySpec spec = new TrackingPolicySpec();
    spec.sourceRef = new LocalObjectRef(source);
    spec.tables = List.of("public.orders");
    resource.setSpec(spec);
    return resource;
  }

  <T extends io.fabric8.kubernetes.api.model.HasMetadata> T awaitCondition(Class<T> type, String name,
      String conditionType, String status) throws Exception {
    String what = type.getSimpleName() + " " + name + " " + conditionType + "=" + status;
    try {
      await(what).atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
          .failFast("the operator process exited", () -> !operator.isAlive())
          .until(() -> {
            T resource = admin.resources(type).inNamespace(namespace).withName(name).get();
            List<Condition> conditions = resource instanceof SourceDatabase s && s.getStatus() != null
                ? s.getStatus().conditions
                : resource instanceof TrackingPolicy p && p.getStatus() != null ? p.getStatus().conditions : null;
            return conditions != null && conditions.stream()
                .anyMatch(c -> c.getType().equals(conditionType) && c.getStatus().equals(status));
          });
    } catch (org.awaitility.core.ConditionTimeoutException | org.awaitility.core.TerminalFailureException e) {
      // say why: a request the chart's RBAC refused is the usual cause; the operator's log says the rest
      throw new AssertionError(what + " not reached; requests the chart's RBAC refused: "
          + Permissions.forbidden(server.auditEvents(), serviceAccountUser) + "; operator log: "
          + operator.logFile() + "; status: " + admin.resources(type).inNamespace(namespace).withName(name).get(), e);
    }
    return admin.resources(type).inNamespace(namespace).withName(name).get();
  }

  static JsonNode only(List<JsonNode> manifests, String kind) {
    List<JsonNode> matching = manifests.stream().filter(m -> m.path("kind").asText().equals(kind)).toList();
    assertThat(matching).as("rendered %s", kind).hasSize(1);
    return matching.get(0);
  }

  static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
