package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgtrail.helm.Helm;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Real-API-server tier: every manifest the Helm chart renders, with default values and with the chart tests'
 * non-default values (namespaced RBAC, every optional object on), passes a strict server-side dry run (as
 * {@code helm install --server-side} or {@code kubectl apply --server-side --dry-run=server} would send it),
 * and the operator's pod is admitted where Pod Security enforces the restricted profile.
 */
@Tag("kube-apiserver")
@ExtendWith(KubeBinaries.Required.class)
class ApiServerChartTest {
  /** Kinds whose CRDs a cluster gets from elsewhere (the Prometheus operator): not served by this API server. */
  static final Set<String> FOREIGN_KINDS = Set.of("ServiceMonitor");
  static KubeApiServer server;
  static ApiRequests admin;

  @BeforeAll
  static void start() {
    server = ClusterManifests.clusterWithCrds(Helm.NAMESPACE);
    admin = new ApiRequests(server, server.adminToken());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "src/test/resources/helm/values-namespaced.yaml"})
  void everyRenderedManifestPassesStrictServerSideValidation(String valuesFile) {
    List<JsonNode> manifests = valuesFile.isEmpty() ? Helm.render()
        : Helm.render("-f", KubeBinaries.projectRoot().resolve(valuesFile).toString());
    List<String> checked = new ArrayList<>();
    ClusterManifests.ensureNamespace(server, Helm.NAMESPACE);
    for (JsonNode manifest : manifests) {
      String kind = manifest.path("kind").asText();
      if (kind.equals("CustomResourceDefinition") || FOREIGN_KINDS.contains(kind)) {
        continue; // the CRDs: ApiServerSchemaTest (from crds/, which ChartCrdsTest keeps equal to the chart's)
      }
      String namespace = manifest.path("metadata").path("namespace").asText(Helm.NAMESPACE);
      ClusterManifests.ensureNamespace(server, namespace);
      // an apply dry run: valid whether or not the same RBAC objects exist already
      ApiRequests.Response response = admin.apply(manifest, namespace, null, "helm", true, true);
      assertThat(response.succeeded()).as("%s %s/%s: %s", kind, namespace,
          manifest.path("metadata").path("name").asText(), response.message()).isTrue();
      checked.add(kind);
      if (kind.equals("Deployment")) {
        ApiRequests.Response pod = ClusterManifests.dryRunPodUnderRestrictedProfile(server,
            manifest.path("spec").path("template"), "operator");
        assertThat(pod.succeeded()).as("the operator pod under Pod Security 'restricted': %s", pod.message())
            .isTrue();
      }
    }
    assertThat(checked).contains("Deployment", "ServiceAccount").containsAnyOf("ClusterRole", "Role");
  }
}
