package io.pgtrail.docs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Renders docs/crd-reference.md from the committed CRDs in crds/: printer columns, validation
 * rules and every field with its type, default, constraints and description. The CRDs are
 * generated from the api classes, so the reference follows the code through them.
 */
final class CrdReference {
  private CrdReference() {}

  static String render(Path crdDirectory) throws IOException {
    List<Path> files;
    try (Stream<Path> listing = Files.list(crdDirectory)) {
      files = listing.filter(p -> p.toString().endsWith(".yml")).sorted().toList();
    }
    StringBuilder out = new StringBuilder();
    out.append("# Custom resource reference (`pgtrail.io/v1alpha1`)\n\n")
        .append("<!-- Generated from crds/*.yml by CrdReferenceTest; do not edit by hand. To regenerate:\n")
        .append("     mvn -B -q test -Dtest=CrdReferenceTest -Dpgtrail.docs.write=true -->\n\n")
        .append("The CRDs are generated from the classes in `src/main/java/io/pgtrail/api/v1alpha1` and committed to\n")
        .append("`crds/` and `helm/pgtrail/crds/`. Fields marked *required* must be set; the API server applies the\n")
        .append("defaults shown and rejects values outside the constraints before pgtrail sees them.\n");
    for (Path file : files) {
      renderCrd(new YAMLMapper().readTree(file.toFile()), out);
    }
    return out.toString();
  }

  private static void renderCrd(JsonNode crd, StringBuilder out) {
    JsonNode names = crd.at("/spec/names");
    JsonNode version = crd.at("/spec/versions/0");
    out.append("\n## ").append(names.path("kind").asText()).append("\n\n");
    out.append("`").append(crd.at("/metadata/name").asText()).append("`, ").append(crd.at("/spec/scope").asText())
        .append(", version `").append(version.path("name").asText()).append("`");
    List<String> shortNames = new ArrayList<>();
    names.path("shortNames").forEach(n -> shortNames.add("`" + n.asText() + "`"));
    if (!shortNames.isEmpty()) {
      out.append(", short names ").append(String.join(", ", shortNames));
    }
    out.append(".\n\n");

    out.append("`kubectl get` columns, in the order kubectl shows them (after NAME):\n\n");
    out.append("| column | type | JSON path |\n| --- | --- | --- |\n");
    version.path("additionalPrinterColumns").forEach(c -> out.append("| ").append(c.path("name").asText())
        .append(" | ").append(c.path("type").asText()).append(" | `").append(c.path("jsonPath").asText())
        .append("` |\n"));

    JsonNode schema = version.at("/schema/openAPIV3Schema");
    for (String part : List.of("spec", "status")) {
      JsonNode node = schema.path("properties").path(part);
      if (node.isMissingNode()) {
        continue;
      }
      out.append("\n### ").append(part).append("\n\n");
      rules(node, part, out);
      out.append("| field | type | required | default | description |\n| --- | --- | --- | --- | --- |\n");
      fields(node, part, out);
    }
  }

  private static void rules(JsonNode node, String path, StringBuilder out) {
    List<String> found = new ArrayList<>();
    collectRules(node, path, found);
    if (found.isEmpty()) {
      return;
    }
    out.append("Validation rules (CEL, checked by the API server):\n\n");
    found.forEach(rule -> out.append("- ").append(rule).append("\n"));
    out.append("\n");
  }

  private static void collectRules(JsonNode node, String path, List<String> found) {
    node.path("x-kubernetes-validations").forEach(rule -> found.add("`" + path + "`: "
        + escape(rule.path("message").asText()) + " (`" + rule.path("rule").asText().replace("`", "'") + "`)"));
    for (Map.Entry<String, JsonNode> property : node.path("properties").properties()) {
      collectRules(property.getValue(), path + "." + property.getKey(), found);
    }
    if (node.has("items")) {
      collectRules(node.path("items"), path + "[]", found);
    }
  }

  private static void fields(JsonNode node, String path, StringBuilder out) {
    Set<String> required = new HashSet<>();
    node.path("required").forEach(r -> required.add(r.asText()));
    for (Map.Entry<String, JsonNode> property : node.path("properties").properties()) {
      String childPath = path + "." + property.getKey();
      JsonNode child = property.getValue();
      out.append("| `").append(childPath).append("` | ").append(type(child)).append(" | ")
          .append(required.contains(property.getKey()) ? "yes" : "").append(" | ")
          .append(child.has("default") ? "`" + child.path("default").toString().replace("\"", "") + "`" : "")
          .append(" | ").append(escape(description(child))).append(" |\n");
      if (child.has("properties")) {
        fields(child, childPath, out);
      } else if (child.path("items").has("properties")) {
        fields(child.path("items"), childPath + "[]", out);
      }
    }
  }

  private static String type(JsonNode node) {
    if (node.path("x-kubernetes-int-or-string").asBoolean()) {
      return "int or string";
    }
    if (node.path("type").asText().equals("array")) {
      return "array of " + type(node.path("items"));
    }
    return node.path("type").asText("object");
  }

  private static String description(JsonNode node) {
    List<String> parts = new ArrayList<>();
    if (node.hasNonNull("description")) {
      parts.add(node.path("description").asText().strip());
    }
    if (node.has("enum")) {
      List<String> values = new ArrayList<>();
      node.path("enum").forEach(v -> values.add("`" + v.asText() + "`"));
      parts.add("One of " + String.join(", ", values) + ".");
    }
    if (node.has("pattern")) {
      parts.add("Pattern `" + node.path("pattern").asText() + "`.");
    }
    if (node.has("minimum") || node.has("maximum")) {
      parts.add("Range " + bound(node.path("minimum")) + " to " + bound(node.path("maximum")) + ".");
    }
    return String.join(" ", parts);
  }

  private static String bound(JsonNode value) {
    if (value.isMissingNode()) {
      return "…";
    }
    return value.asDouble() == Math.rint(value.asDouble()) ? Long.toString(value.asLong()) : value.asText();
  }

  private static String escape(String text) {
    return text.replace("|", "\\|").replace("\n", " ");
  }
}
