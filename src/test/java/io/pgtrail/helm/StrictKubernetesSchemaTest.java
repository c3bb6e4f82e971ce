package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The offline validator must reject what the API server would reject, or the chart tests prove nothing. */
class StrictKubernetesSchemaTest {

  private static final String VALID_DEPLOYMENT = """
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: demo
        namespace: ns
      spec:
        selector:
          matchLabels: {app: demo}
        template:
          metadata:
            labels: {app: demo}
          spec:
            containers:
              - name: app
                image: demo:1
                env:
                  - name: PORT
                    value: "8080"
                ports:
                  - name: http
                    containerPort: 8080
                readinessProbe:
                  httpGet: {path: /readyz, port: http}
                securityContext:
                  readOnlyRootFilesystem: true
                resources:
                  limits: {memory: 512Mi, cpu: "1"}
      """;

  @Test
  void acceptsAValidDeployment() {
    Deployment deployment = StrictKubernetesSchema.validate(manifest(VALID_DEPLOYMENT), Deployment.class);

    assertThat(deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getSecurityContext()
        .getReadOnlyRootFilesystem()).isTrue();
  }

  @Test
  void rejectsAnUnknownFieldDeepInTheTree() {
    String misspelt = VALID_DEPLOYMENT.replace("readOnlyRootFilesystem", "readOnlyRootFileSystem");

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(misspelt)))
        .isInstanceOf(StrictKubernetesSchema.InvalidManifestException.class)
        .hasMessageContaining("Deployment ns/demo")
        .hasMessageContaining("readOnlyRootFileSystem");
  }

  @Test
  void rejectsAnUnknownTopLevelField() {
    String extra = VALID_DEPLOYMENT + "status2: {}\n";

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(extra)))
        .hasMessageContaining("status2");
  }

  @Test
  void rejectsANumberWhereKubernetesWantsAString() {
    String unquoted = VALID_DEPLOYMENT.replace("value: \"8080\"", "value: 8080");

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(unquoted)))
        .hasMessageContaining("value");
  }

  @Test
  void rejectsAQuotedBoolean() {
    String quoted = VALID_DEPLOYMENT.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: \"true\"");

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(quoted)))
        .hasMessageContaining("readOnlyRootFilesystem");
  }

  @Test
  void rejectsAWrongNestedShape() {
    String listAsMap = VALID_DEPLOYMENT.replace(
        "ports:\n            - name: http\n              containerPort: 8080\n",
        "ports:\n            name: http\n");
    assertThat(listAsMap).isNotEqualTo(VALID_DEPLOYMENT);

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(listAsMap)))
        .hasMessageContaining("ports");
  }

  @Test
  void rejectsAKindItDoesNotKnow() {
    String unknownKind = VALID_DEPLOYMENT.replace("kind: Deployment", "kind: Deploymnet");

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(unknownKind)))
        .hasMessageContaining("no Kubernetes type known for apps/v1/Deploymnet");
  }

  @Test
  void rejectsAnUnknownFieldInAPrometheusOperatorServiceMonitor() {
    String serviceMonitor = """
        apiVersion: monitoring.coreos.com/v1
        kind: ServiceMonitor
        metadata: {name: demo}
        spec:
          selector: {matchLabels: {app: demo}}
          endpoints:
            - port: http-metrics
              scrapeInterval: 30s
        """;

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(serviceMonitor)))
        .hasMessageContaining("scrapeInterval");
  }

  @Test
  void rejectsAManifestWithoutAName() {
    String nameless = VALID_DEPLOYMENT.replace("  name: demo\n", "");

    assertThatThrownBy(() -> StrictKubernetesSchema.validate(manifest(nameless)))
        .hasMessageContaining("has no metadata.name");
  }

  private static JsonNode manifest(String yaml) {
    List<JsonNode> manifests = Helm.parseManifests(yaml);
    assertThat(manifests).hasSize(1);
    return manifests.get(0);
  }
}
