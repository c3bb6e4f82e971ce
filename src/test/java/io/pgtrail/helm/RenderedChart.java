package io.pgtrail.helm;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** The manifests of one {@code helm template} run, each read strictly into its Kubernetes type. */
final class RenderedChart {

  private final List<JsonNode> manifests;
  private final List<HasMetadata> resources;

  private RenderedChart(List<JsonNode> manifests) {
    this.manifests = List.copyOf(manifests);
    this.resources = manifests.stream().map(StrictKubernetesSchema::validate).toList();
  }

  /** Renders the chart with {@code helmArguments} and validates every manifest. */
  static RenderedChart render(String... helmArguments) {
    return new RenderedChart(Helm.render(helmArguments));
  }

  List<JsonNode> manifests() {
    return manifests;
  }

  List<HasMetadata> resources() {
    return resources;
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return resources.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type) {
    List<T> found = all(type);
    if (found.size() != 1) {
      throw new AssertionError("expected exactly one " + type.getSimpleName() + ", found " + names(found));
    }
    return found.get(0);
  }

  <T extends HasMetadata> T named(Class<T> type, String namespace, String name) {
    return all(type).stream()
        .filter(resource -> name.equals(resource.getMetadata().getName()))
        .filter(resource -> Objects.equals(namespace, resource.getMetadata().getNamespace()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + namespace + "/" + name
            + " among " + names(all(type))));
  }

  /** "Kind namespace/name" of every rendered object, for readable failures and set assertions. */
  Set<String> identities() {
    return resources.stream().map(RenderedChart::identity).collect(Collectors.toCollection(TreeSet::new));
  }

  static String identity(HasMetadata resource) {
    String namespace = resource.getMetadata().getNamespace();
    return resource.getKind() + " " + (namespace == null ? "" : namespace + "/") + resource.getMetadata().getName();
  }

  /**
   * RBAC rules flattened to "apiGroup resource verb" triples, so a test can compare permissions
   * exactly whatever way the rules are grouped.
   */
  static Set<String> permissions(List<PolicyRule> rules) {
    Set<String> permissions = new TreeSet<>();
    for (PolicyRule rule : rules) {
      if (!rule.getResourceNames().isEmpty() || !rule.getNonResourceURLs().isEmpty()) {
        permissions.add("unexpected resourceNames/nonResourceURLs in " + rule);
      }
      for (String group : rule.getApiGroups()) {
        for (String resource : rule.getResources()) {
          for (String verb : rule.getVerbs()) {
            permissions.add((group.isEmpty() ? "core" : group) + " " + resource + " " + verb);
          }
        }
      }
    }
    return permissions;
  }

  private static String names(List<? extends HasMetadata> resources) {
    return resources.stream().map(RenderedChart::identity).toList().toString();
  }
}
