package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import org.junit.jupiter.api.Test;

/** Single switches, each rendered and validated on its own. */
class ChartValuesVariantsTest {

  @Test
  void withoutLeaderElectionTheOperatorIsToldSoAndGetsNoLeaseRights() {
    RenderedChart chart = RenderedChart.render("--set", "leaderElection.enabled=false");

    assertThat(ChartDefaultValuesTest.plainEnvironment(operatorContainer(chart)))
        .containsEntry("PGTRAIL_LEADER_ELECTION", "false");
    assertThat(chart.all(Role.class)).isEmpty();
    assertThat(chart.all(RoleBinding.class)).isEmpty();
  }

  @Test
  void withoutRbacCreationNoRoleOrBindingIsRendered() {
    RenderedChart chart = RenderedChart.render("--set", "rbac.create=false");

    assertThat(chart.resources()).noneMatch(resource -> resource instanceof ClusterRole
        || resource instanceof ClusterRoleBinding || resource instanceof Role || resource instanceof RoleBinding);
    assertThat(chart.one(Deployment.class)).isNotNull();
  }

  @Test
  void anExistingServiceAccountIsUsedByName() {
    RenderedChart chart = RenderedChart.render("--set", "serviceAccount.create=false",
        "--set", "serviceAccount.name=platform-operators");

    assertThat(chart.all(ServiceAccount.class)).isEmpty();
    assertThat(chart.one(Deployment.class).getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("platform-operators");
    assertThat(chart.one(ClusterRoleBinding.class).getSubjects().get(0).getName()).isEqualTo("platform-operators");
  }

  @Test
  void anExistingServiceAccountMustBeNamed() {
    Command.Result result = Helm.template("--set", "serviceAccount.create=false");

    assertThat(result.succeeded()).isFalse();
    assertThat(result.stderr()).contains("serviceAccount.name is required when serviceAccount.create is false");
  }

  @Test
  void aServiceMonitorWithoutTheMetricsServiceIsRefused() {
    Command.Result result = Helm.template("--set", "serviceMonitor.enabled=true", "--set", "metrics.enabled=false");

    assertThat(result.succeeded()).isFalse();
    assertThat(result.stderr()).contains("serviceMonitor.enabled needs metrics.enabled");
  }

  @Test
  void workerImageDefaultsToTheOperatorImageWithAnOverriddenTag() {
    RenderedChart chart = RenderedChart.render("--set", "image.tag=9.9.9");

    assertThat(ChartDefaultValuesTest.plainEnvironment(operatorContainer(chart)))
        .containsEntry("PGTRAIL_WORKER_IMAGE", "ghcr.io/pgtrail/pgtrail:9.9.9");
    assertThat(operatorContainer(chart).getImage()).isEqualTo("ghcr.io/pgtrail/pgtrail:9.9.9");
  }

  @Test
  void clusterScopedNamesIncludeTheReleaseNamespaceSoTwoInstallsDoNotCollide() {
    RenderedChart other = RenderedChart.render("--namespace", "other");

    assertThat(other.all(ClusterRole.class)).extracting(HasMetadata::getMetadata)
        .extracting(meta -> meta.getName()).containsExactly("pgtrail-other");
  }

  private static io.fabric8.kubernetes.api.model.Container operatorContainer(RenderedChart chart) {
    return chart.one(Deployment.class).getSpec().getTemplate().getSpec().getContainers().get(0);
  }
}
