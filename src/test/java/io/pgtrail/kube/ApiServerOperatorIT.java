package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.pgtrail.helm.Helm;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
        OperatorProcess operator = OperatorProcess.start(only(chart, "Deployment"), variant.releaseNamespace(),
            server.kubeconfig(token, variant.releaseNamespace()), freePort(), server.directory())) {
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

  /** The shared lifecycle against embedded PostgreSQL, then what only a local operator process shows. */
  Deployment lifecycle(OperatorProcess operator) throws Exception {
    LocalPostgres postgres = TestPostgres.shared(PgVersion.primary());
    LifecycleScenario.Outcome outcome = new LifecycleScenario(admin, namespace, embedded(postgres),
        new LifecycleScenario.Operator() {
          @Override
          public boolean isAlive() {
            return operator.isAlive();
          }

          @Override
          public String diagnostics() throws IOException {
            // a request the chart's RBAC refused is the usual cause; the operator's log says the rest
            return "requests the chart's RBAC refused: " + Permissions.forbidden(server.auditEvents(),
                serviceAccountUser) + "; operator log: " + operator.logFile();
          }
        }, false).run();

    ApiRequests.Response workerPod = ClusterManifests.dryRunPodUnderRestrictedProfile(server,
        ApiRequests.JSON.valueToTree(outcome.worker().getSpec().getTemplate()), "worker");
    assertThat(workerPod.succeeded()).as("the worker pod under Pod Security 'restricted': %s", workerPod.message())
        .isTrue();
    // 143 = 128 + SIGTERM: the JVM's status after its shutdown hooks ran (what the kubelet sees on a clean stop)
    assertThat(operator.terminate(Duration.ofSeconds(30))).as("operator exit code after SIGTERM").isEqualTo(143);
    assertThat(operator.output()).contains("pgtrail operator stopping");
    LifecycleScenario.assertOperatorLog(operator.output(), namespace, outcome);
    return outcome.worker();
  }

  /** The test and the operator process reach embedded PostgreSQL at the same address. */
  static LifecycleScenario.Postgres embedded(LocalPostgres postgres) {
    return new LifecycleScenario.Postgres() {
      @Override
      public ConnectionSettings newDatabase(String prefix) {
        return TestPostgres.newDatabase(postgres, prefix);
      }

      @Override
      public void execute(ConnectionSettings database, String... statements) {
        postgres.execute(database.database(), statements);
      }

      @Override
      public ConnectionSettings asSeenFromCluster(ConnectionSettings database) {
        return database;
      }
    };
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
