package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code helm template} with the chart's default values: what a plain {@code helm install} creates. */
class ChartDefaultValuesTest {

  private static final String NAMESPACE = Helm.NAMESPACE;
  private static final String FULLNAME = "pgtrail";
  private static RenderedChart chart;

  @BeforeAll
  static void render() {
    chart = RenderedChart.render();
  }

  @Test
  void rendersExactlyTheOperatorsObjectsAndTheCrds() {
    List<String> crds = chart.all(CustomResourceDefinition.class).stream().map(RenderedChart::identity).toList();

    assertThat(chart.identities()).containsExactlyInAnyOrderElementsOf(concat(crds, List.of(
        "ServiceAccount pgtrail-system/pgtrail",
        "ClusterRole pgtrail-pgtrail-system",
        "ClusterRoleBinding pgtrail-pgtrail-system",
        "Role pgtrail-system/pgtrail-leader-election",
        "RoleBinding pgtrail-system/pgtrail-leader-election",
        "Service pgtrail-system/pgtrail-metrics",
        "Deployment pgtrail-system/pgtrail")));
  }

  @Test
  void everyNamespacedObjectLandsInTheReleaseNamespace() {
    for (HasMetadata resource : chart.resources()) {
      boolean clusterScoped = resource instanceof ClusterRole || resource instanceof ClusterRoleBinding
          || resource instanceof CustomResourceDefinition;
      assertThat(resource.getMetadata().getNamespace()).as(RenderedChart.identity(resource))
          .isEqualTo(clusterScoped ? null : NAMESPACE);
    }
  }

  @Test
  void clusterRoleGrantsExactlyWhatTheOperatorUses() {
    ClusterRole role = chart.one(ClusterRole.class);

    assertThat(RenderedChart.permissions(role.getRules())).isEqualTo(ExpectedPermissions.WATCHED_NAMESPACES);
    assertThat(role.getAggregationRule()).isNull();
  }

  @Test
  void clusterRoleIsBoundToTheOperatorsServiceAccountOnly() {
    ClusterRoleBinding binding = chart.one(ClusterRoleBinding.class);

    assertThat(binding.getRoleRef().getKind()).isEqualTo("ClusterRole");
    assertThat(binding.getRoleRef().getName()).isEqualTo(chart.one(ClusterRole.class).getMetadata().getName());
    assertThat(binding.getSubjects()).extracting(Subject::getKind, Subject::getName, Subject::getNamespace)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("ServiceAccount", FULLNAME, NAMESPACE));
  }

  @Test
  void leasesAreGrantedOnlyInTheReleaseNamespace() {
    Role role = chart.one(Role.class);
    RoleBinding binding = chart.one(RoleBinding.class);

    assertThat(role.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(RenderedChart.permissions(role.getRules())).isEqualTo(ExpectedPermissions.LEADER_ELECTION);
    assertThat(binding.getRoleRef().getName()).isEqualTo(role.getMetadata().getName());
    assertThat(binding.getSubjects()).singleElement()
        .satisfies(subject -> assertThat(subject.getName()).isEqualTo(FULLNAME));
  }

  @Test
  void operatorRunsTheOperatorSubcommandOfTheImage() {
    Container container = operatorContainer();

    assertThat(container.getImage()).isEqualTo(ChartMetadata.defaultImage());
    assertThat(container.getCommand()).isEmpty();
    assertThat(container.getArgs()).containsExactly("operator");
    assertThat(deployment().getSpec().getReplicas()).isEqualTo(1);
  }

  @Test
  void operatorSettingsArriveAsEnvironmentVariables() {
    Map<String, String> env = plainEnvironment(operatorContainer());

    assertThat(env).containsEntry("PGTRAIL_WATCH_NAMESPACES", "")
        .containsEntry("PGTRAIL_LEADER_ELECTION", "true")
        .containsEntry("PGTRAIL_METRICS_PORT", "8080")
        .containsEntry("PGTRAIL_LOG_LEVEL", "info")
        .containsEntry("PGTRAIL_LOG_FORMAT", "json")
        .containsEntry("PGTRAIL_WORKER_IMAGE", ChartMetadata.defaultImage());
    assertThat(leaderElectionNamespace(operatorContainer())).isEqualTo("metadata.namespace");
  }

  @Test
  void runsAsNonRootWithAReadOnlyRootFilesystem() {
    PodSecurityContext pod = podSpec().getSecurityContext();
    SecurityContext container = operatorContainer().getSecurityContext();

    assertThat(pod.getRunAsNonRoot()).isTrue();
    assertThat(pod.getRunAsUser()).isPositive();
    assertThat(pod.getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    assertThat(container.getRunAsNonRoot()).isTrue();
    assertThat(container.getRunAsUser()).isPositive();
    assertThat(container.getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getPrivileged()).isNotEqualTo(Boolean.TRUE);
    assertThat(container.getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getCapabilities().getAdd()).isEmpty();
  }

  @Test
  void writableTmpIsAnEmptyDirBecauseTheRootFilesystemIsReadOnly() {
    assertThat(operatorContainer().getVolumeMounts()).singleElement()
        .satisfies(mount -> assertThat(mount.getMountPath()).isEqualTo("/tmp"));
    assertThat(podSpec().getVolumes()).singleElement()
        .satisfies(volume -> assertThat(volume.getEmptyDir()).isNotNull());
  }

  @Test
  void probesUseTheHealthEndpointsOnTheMetricsPort() {
    Container container = operatorContainer();

    assertThat(container.getPorts()).singleElement().satisfies(port -> {
      assertThat(port.getName()).isEqualTo("http");
      assertThat(port.getContainerPort()).isEqualTo(8080);
    });
    assertHttpProbe(container.getStartupProbe(), "/healthz");
    assertHttpProbe(container.getLivenessProbe(), "/healthz");
    assertHttpProbe(container.getReadinessProbe(), "/readyz");
  }

  @Test
  void resourcesAreRequestedAndMemoryIsLimited() {
    var resources = operatorContainer().getResources();

    assertThat(resources.getRequests()).containsKeys("cpu", "memory");
    assertThat(resources.getLimits()).containsEntry("memory", new Quantity("512Mi"));
  }

  @Test
  void podUsesTheChartsServiceAccount() {
    assertThat(podSpec().getServiceAccountName())
        .isEqualTo(chart.one(ServiceAccount.class).getMetadata().getName());
    assertThat(podSpec().getAutomountServiceAccountToken()).isTrue();
  }

  @Test
  void metricsServiceSelectsTheOperatorPodsOnTheirHttpPort() {
    Service service = chart.one(Service.class);
    Map<String, String> podLabels = deployment().getSpec().getTemplate().getMetadata().getLabels();

    assertThat(podLabels).containsAllEntriesOf(service.getSpec().getSelector());
    assertThat(deployment().getSpec().getSelector().getMatchLabels()).isEqualTo(service.getSpec().getSelector());
    assertThat(service.getSpec().getPorts()).singleElement().satisfies((ServicePort port) -> {
      assertThat(port.getName()).isEqualTo("http-metrics");
      assertThat(port.getPort()).isEqualTo(8080);
      assertThat(port.getTargetPort().getStrVal()).isEqualTo("http");
    });
  }

  @Test
  void everyObjectCarriesTheStandardLabels() {
    for (HasMetadata resource : chart.resources()) {
      if (resource instanceof CustomResourceDefinition) {
        continue; // generated by the operator build, not templated
      }
      assertThat(resource.getMetadata().getLabels()).as(RenderedChart.identity(resource))
          .containsEntry("app.kubernetes.io/name", "pgtrail")
          .containsEntry("app.kubernetes.io/instance", Helm.RELEASE)
          .containsEntry("app.kubernetes.io/managed-by", "Helm")
          .containsEntry("app.kubernetes.io/version", ChartMetadata.appVersion());
    }
  }

  static Map<String, String> plainEnvironment(Container container) {
    return container.getEnv().stream()
        .filter(env -> env.getValueFrom() == null)
        .collect(Collectors.toMap(EnvVar::getName, env -> env.getValue() == null ? "" : env.getValue()));
  }

  static String leaderElectionNamespace(Container container) {
    return container.getEnv().stream()
        .filter(env -> env.getName().equals("PGTRAIL_LEADER_ELECTION_NAMESPACE"))
        .map(env -> env.getValueFrom().getFieldRef().getFieldPath())
        .findFirst()
        .orElseThrow();
  }

  private static void assertHttpProbe(Probe probe, String path) {
    assertThat(probe).as("probe on " + path).isNotNull();
    assertThat(probe.getHttpGet().getPath()).isEqualTo(path);
    assertThat(probe.getHttpGet().getPort().getStrVal()).isEqualTo("http");
  }

  private static Deployment deployment() {
    return chart.one(Deployment.class);
  }

  private static PodSpec podSpec() {
    return deployment().getSpec().getTemplate().getSpec();
  }

  private static Container operatorContainer() {
    assertThat(podSpec().getContainers()).hasSize(1);
    return podSpec().getContainers().get(0);
  }

  private static List<String> concat(List<String> first, List<String> second) {
    return java.util.stream.Stream.concat(first.stream(), second.stream()).toList();
  }
}
