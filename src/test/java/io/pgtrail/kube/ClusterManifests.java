package io.pgtrail.kube;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The project's manifests (crds/, k8s-examples/) read as YAML, and installed into a {@link KubeApiServer}. */
final class ClusterManifests {
  private static boolean crdsInstalled;

  private ClusterManifests() {}

  static Path crdsDirectory() {
    return KubeBinaries.projectRoot().resolve("crds");
  }

  static Path examplesDirectory() {
    return KubeBinaries.projectRoot().resolve("k8s-examples");
  }

  static List<Path> yamlFiles(Path directory) {
    try (Stream<Path> files = Files.walk(directory)) {
      return files.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<JsonNode> documents(Path file) {
    List<JsonNode> documents = new ArrayList<>();
    try (MappingIterator<JsonNode> it = new YAMLMapper().readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNext()) {
        JsonNode document = it.next();
        if (document != null && !document.isNull() && !document.isEmpty()) {
          documents.add(document);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    return documents;
  }

  /** The JVM's API server with pgtrail's CRDs installed and the given namespaces created. */
  static KubeApiServer clusterWithCrds(String... namespaces) {
    KubeApiServer server = KubeApiServer.shared();
    installCrds(server);
    for (String namespace : namespaces) {
      ensureNamespace(server, namespace);
    }
    return server;
  }

  /** Creates (or replaces) every CRD in crds/ and waits until each is Established (once per JVM). */
  static synchronized void installCrds(KubeApiServer server) {
    if (crdsInstalled) {
      return;
    }
    KubernetesClient admin = server.admin();
    for (Path file : yamlFiles(crdsDirectory())) {
      for (JsonNode document : documents(file)) {
        CustomResourceDefinition crd = Serialization.unmarshal(document.toString(), CustomResourceDefinition.class);
        admin.apiextensions().v1().customResourceDefinitions().resource(crd).createOr(existing -> existing.update());
        await("CRD " + crd.getMetadata().getName() + " Established").atMost(Duration.ofSeconds(30))
            .pollInterval(Duration.ofMillis(200)).until(() -> established(admin, crd.getMetadata().getName()));
      }
    }
    crdsInstalled = true;
  }

  static boolean established(KubernetesClient admin, String name) {
    CustomResourceDefinition crd = admin.apiextensions().v1().customResourceDefinitions().withName(name).get();
    return crd != null && crd.getStatus() != null && crd.getStatus().getConditions().stream()
        .anyMatch(c -> c.getType().equals("Established") && c.getStatus().equals("True"));
  }

  /** A namespace whose Pod Security admission enforces the restricted profile. */
  static final String RESTRICTED_NAMESPACE = "pod-security-restricted";

  /**
   * Dry-runs a Pod made from a workload's pod template in {@link #RESTRICTED_NAMESPACE}: the real Pod Security
   * admission either admits it or answers 403 with every violation.
   */
  static ApiRequests.Response dryRunPodUnderRestrictedProfile(KubeApiServer server, JsonNode podTemplate, String name) {
    KubernetesClient admin = server.admin();
    if (admin.namespaces().withName(RESTRICTED_NAMESPACE).get() == null) {
      admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(RESTRICTED_NAMESPACE)
          .addToLabels("pod-security.kubernetes.io/enforce", "restricted").endMetadata().build()).create();
    }
    com.fasterxml.jackson.databind.node.ObjectNode pod = ApiRequests.JSON.createObjectNode();
    pod.put("apiVersion", "v1").put("kind", "Pod");
    pod.putObject("metadata").put("name", name);
    pod.set("spec", podTemplate.path("spec").deepCopy());
    return new ApiRequests(server, server.adminToken()).create(pod, RESTRICTED_NAMESPACE, true);
  }

  static void ensureNamespace(KubeApiServer server, String name) {
    KubernetesClient admin = server.admin();
    if (admin.namespaces().withName(name).get() == null) {
      admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
          .create();
    }
  }
}
