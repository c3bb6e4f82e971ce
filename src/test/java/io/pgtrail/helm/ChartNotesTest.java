package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What {@code helm install} tells the user next. */
class ChartNotesTest {

  @Test
  void notesNameTheDeploymentTheWatchScopeAndTheFirstSteps() {
    String notes = Helm.installNotes();

    assertThat(notes)
        .contains("release \"pgtrail\" in namespace \"pgtrail-system\"")
        .contains("The operator watches all namespaces.")
        .contains("kubectl -n pgtrail-system rollout status deployment/pgtrail")
        .contains("kubectl -n <namespace> wait --for=condition=Ready sourcedatabase/<name>")
        .contains("http://pgtrail-metrics.pgtrail-system.svc:8080/metrics")
        .contains("reclaimPolicy");
  }

  @Test
  void notesFollowTheValues() {
    String notes = Helm.installNotes("-f", ProjectFiles.testValues("values-namespaced.yaml").toString(),
        "--set", "rbac.create=false");

    assertThat(notes)
        .contains("The operator watches the namespaces team-a,team-b.")
        .contains("deployment/audit")
        .contains("rbac.create is false: grant the service account \"pgtrail-operator\"")
        .contains("http://audit-metrics.pgtrail-system.svc:9090/metrics (scraped through the ServiceMonitor \"audit\")");
  }
}
