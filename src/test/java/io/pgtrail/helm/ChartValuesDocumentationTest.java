package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * values.yaml documents every chart setting, and values.schema.json declares the same settings.
 * Keys inside free-form objects (resources, securityContext, affinity, ...) are Kubernetes fields,
 * passed through, and not the chart's to document.
 */
class ChartValuesDocumentationTest {

  private static final Pattern KEY_LINE = Pattern.compile("^( *)([A-Za-z0-9_.-]+):(\\s|$)");

  /** Dotted key path to "is the line above it a comment", in file order. */
  private static Map<String, Boolean> valuesKeys;
  private static Set<String> schemaKeys;

  @BeforeAll
  static void read() throws IOException {
    valuesKeys = keysOfValuesYaml(Files.readAllLines(ProjectFiles.chart().resolve("values.yaml")));
    JsonNode schema = new ObjectMapper().readTree(ProjectFiles.chart().resolve("values.schema.json").toFile());
    schemaKeys = new TreeSet<>();
    collectDeclaredKeys(schema, schema, "", schemaKeys);
    schemaKeys.remove("global");
  }

  @Test
  void everyChartSettingInValuesYamlHasACommentAboveIt() {
    List<String> undocumented = valuesKeys.entrySet().stream()
        .filter(entry -> schemaKeys.contains(entry.getKey()))
        .filter(entry -> !entry.getValue())
        .map(Map.Entry::getKey)
        .toList();

    assertThat(undocumented).as("keys in values.yaml without a comment line directly above").isEmpty();
  }

  @Test
  void valuesYamlAndTheSchemaDeclareTheSameSettings() {
    Set<String> inValues = new TreeSet<>(valuesKeys.keySet());
    inValues.retainAll(withAncestors(schemaKeys));
    Set<String> passThroughChildren = new TreeSet<>(valuesKeys.keySet());
    passThroughChildren.removeAll(inValues);

    assertThat(inValues).as("settings in values.yaml vs. values.schema.json")
        .containsExactlyInAnyOrderElementsOf(schemaKeys);
    assertThat(passThroughChildren).as("keys of free-form objects only")
        .allMatch(key -> schemaKeys.stream().anyMatch(parent -> key.startsWith(parent + ".")));
  }

  private static Map<String, Boolean> keysOfValuesYaml(List<String> lines) {
    Map<String, Boolean> keys = new LinkedHashMap<>();
    Deque<int[]> indents = new ArrayDeque<>();
    Deque<String> path = new ArrayDeque<>();
    String previous = "";
    for (String line : lines) {
      Matcher key = KEY_LINE.matcher(line);
      if (key.find()) {
        int indent = key.group(1).length();
        while (!indents.isEmpty() && indents.peekLast()[0] >= indent) {
          indents.removeLast();
          path.removeLast();
        }
        indents.addLast(new int[] {indent});
        path.addLast(key.group(2));
        keys.put(String.join(".", path), previous.strip().startsWith("#"));
      }
      if (!line.isBlank()) {
        previous = line;
      }
    }
    return keys;
  }

  /** Paths of the properties the schema names, following $ref into definitions. */
  private static void collectDeclaredKeys(JsonNode root, JsonNode node, String prefix, Set<String> keys) {
    JsonNode resolved = resolve(root, node);
    resolved.path("properties").fields().forEachRemaining(property -> {
      String path = prefix.isEmpty() ? property.getKey() : prefix + "." + property.getKey();
      keys.add(path);
      collectDeclaredKeys(root, property.getValue(), path, keys);
    });
  }

  private static JsonNode resolve(JsonNode root, JsonNode node) {
    String ref = node.path("$ref").asText("");
    if (ref.isEmpty()) {
      return node;
    }
    return root.at(ref.substring(1));
  }

  private static Set<String> withAncestors(Set<String> keys) {
    Set<String> all = new TreeSet<>(keys);
    for (String key : keys) {
      for (int dot = key.indexOf('.'); dot >= 0; dot = key.indexOf('.', dot + 1)) {
        all.add(key.substring(0, dot));
      }
    }
    return all;
  }
}
