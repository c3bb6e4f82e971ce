package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import io.fabric8.openshift.api.model.monitoring.v1.Endpoint;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code helm template} with src/test/resources/helm/values-namespaced.yaml: watched namespaces
 * (namespaced RBAC only), ServiceMonitor and NetworkPolicy on, most settings changed.
 */
class ChartNamespacedValuesTest {

  private static final String NAMESPACE = Helm.NAMESPACE;
  private static final String SERVICE_ACCOUNT = "pgtrail-operator";
  private static RenderedChart chart;

  @BeforeAll
  static void render() {
    chart = RenderedChart.render("-f", ProjectFiles.testValues("values-namespaced.yaml").toString());
  }

  @Test
  void grantsNothingClusterWide() {
    assertThat(chart.all(ClusterRole.class)).isEmpty();
    assertThat(chart.all(ClusterRoleBinding.class)).isEmpty();
  }

  @Test
  void eachWatchedNamespaceGetsOneRoleWithExactlyTheOperatorsRules() {
    for (String namespace : new String[] {"team-a", "team-b"}) {
      Role role = chart.named(Role.class, namespace, "audit");
      assertThat(RenderedChart.permissions(role.getRules())).as(namespace)
          .isEqualTo(ExpectedPermissions.WATCHED_NAMESPACES);
    }
    assertThat(chart.all(Role.class)).extracting(role -> role.getMetadata().getNamespace())
        .as("one Role per watched namespace (the duplicate listed in the values collapses), plus leader election")
        .containsExactlyInAnyOrder("team-a", "team-b", NAMESPACE);
  }

  @Test
  void eachRoleIsBoundToTheOperatorsServiceAccountInTheReleaseNamespace() {
    for (String namespace : new String[] {"team-a", "team-b"}) {
      RoleBinding binding = chart.named(RoleBinding.class, namespace, "audit");
      assertThat(binding.getRoleRef().getKind()).isEqualTo("Role");
      assertThat(binding.getRoleRef().getName()).isEqualTo("audit");
      assertThat(binding.getSubjects()).extracting(Subject::getKind, Subject::getName, Subject::getNamespace)
          .containsExactly(tuple("ServiceAccount", SERVICE_ACCOUNT, NAMESPACE));
    }
  }

  @Test
  void leaderElectionLeasesStayInTheReleaseNamespace() {
    Role role = chart.named(Role.class, NAMESPACE, "audit-leader-election");

    assertThat(RenderedChart.permissions(role.getRules())).isEqualTo(ExpectedPermissions.LEADER_ELECTION);
    assertThat(chart.named(RoleBinding.class, NAMESPACE, "audit-leader-election").getSubjects())
        .extracting(Subject::getName).containsExactly(SERVICE_ACCOUNT);
  }

  @Test
  void operatorIsToldWhichNamespacesToWatchAndTheOtherSettings() {
    Map<String, String> env = ChartDefaultValuesTest.plainEnvironment(operatorContainer());

    assertThat(env).containsEntry("PGTRAIL_WATCH_NAMESPACES", "team-a,team-b")
        .containsEntry("PGTRAIL_LEADER_ELECTION", "true")
        .containsEntry("PGTRAIL_METRICS_PORT", "9090")
        .containsEntry("PGTRAIL_LOG_LEVEL", "debug")
        .containsEntry("PGTRAIL_LOG_FORMAT", "text")
        .containsEntry("PGTRAIL_WORKER_IMAGE", "registry.example.com/platform/pgtrail-worker:1.2.3-worker")
        .containsEntry("HTTPS_PROXY", "http://proxy.example.com:3128");
    assertThat(ChartDefaultValuesTest.leaderElectionNamespace(operatorContainer())).isEqualTo("metadata.namespace");
  }

  @Test
  void imageIsPinnedByDigest() {
    assertThat(operatorContainer().getImage()).isEqualTo("registry.example.com/platform/pgtrail:1.2.3@sha256:"
        + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    assertThat(operatorContainer().getImagePullPolicy()).isEqualTo("Always");
    assertThat(podSpec().getImagePullSecrets()).extracting(ref -> ref.getName()).containsExactly("regcred");
  }

  @Test
  void probesFollowTheChangedPort() {
    assertThat(operatorContainer().getPorts()).singleElement()
        .satisfies(port -> assertThat(port.getContainerPort()).isEqualTo(9090));
    assertThat(operatorContainer().getReadinessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("http");
    assertThat(operatorContainer().getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
  }

  @Test
  void serviceMonitorScrapesTheMetricsServicePort() {
    ServiceMonitor monitor = chart.one(ServiceMonitor.class);
    Service service = chart.one(Service.class);

    assertThat(monitor.getMetadata().getLabels()).containsEntry("release", "kube-prometheus-stack");
    assertThat(service.getMetadata().getLabels()).containsAllEntriesOf(monitor.getSpec().getSelector().getMatchLabels());
    assertThat(monitor.getSpec().getNamespaceSelector().getMatchNames()).containsExactly(NAMESPACE);
    assertThat(monitor.getSpec().getEndpoints()).singleElement().satisfies((Endpoint endpoint) -> {
      assertThat(endpoint.getPort()).isEqualTo(service.getSpec().getPorts().get(0).getName());
      assertThat(endpoint.getPath()).isEqualTo("/metrics");
      assertThat(endpoint.getInterval()).isEqualTo("15s");
      assertThat(endpoint.getScrapeTimeout()).isEqualTo("5s");
    });
  }

  @Test
  void networkPolicyAdmitsOnlyTheMonitoringNamespaceOnTheHttpPort() {
    NetworkPolicy policy = chart.one(NetworkPolicy.class);
    Map<String, String> podLabels = chart.one(Deployment.class).getSpec().getTemplate().getMetadata().getLabels();

    assertThat(podLabels).containsAllEntriesOf(policy.getSpec().getPodSelector().getMatchLabels());
    assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
    assertThat(policy.getSpec().getIngress()).singleElement().satisfies((NetworkPolicyIngressRule rule) -> {
      assertThat(rule.getPorts()).singleElement()
          .satisfies(port -> assertThat(port.getPort().getStrVal()).isEqualTo("http"));
      assertThat(rule.getFrom()).singleElement().satisfies(peer -> assertThat(
          peer.getNamespaceSelector().getMatchLabels()).containsEntry("kubernetes.io/metadata.name", "monitoring"));
    });
  }

  @Test
  void podSettingsPassThrough() {
    assertThat(chart.one(Deployment.class).getSpec().getReplicas()).isEqualTo(2);
    assertThat(podSpec().getServiceAccountName()).isEqualTo(SERVICE_ACCOUNT);
    assertThat(podSpec().getPriorityClassName()).isEqualTo("system-cluster-critical");
    assertThat(podSpec().getNodeSelector()).containsEntry("kubernetes.io/os", "linux");
    assertThat(podSpec().getTolerations()).singleElement()
        .satisfies(toleration -> assertThat(toleration.getKey()).isEqualTo("dedicated"));
    assertThat(podSpec().getAffinity().getPodAntiAffinity()).isNotNull();
    assertThat(chart.one(Deployment.class).getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("team", "platform");
  }

  private static PodSpec podSpec() {
    return chart.one(Deployment.class).getSpec().getTemplate().getSpec();
  }

  private static Container operatorContainer() {
    assertThat(podSpec().getContainers()).hasSize(1);
    return podSpec().getContainers().get(0);
  }
}
