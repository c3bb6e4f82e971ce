package io.pgtrail.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The openAPIV3Schema of the generated CRDs as JSON Schema validators, made as strict as the API server:
 * unknown fields are errors here (the API server would prune them silently, which hides typos).
 * CEL rules ({@code x-kubernetes-validations}) are not evaluated by this validator.
 */
public final class CrdSchemas {
  public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
  private static final Map<String, String> FILE_BY_KIND = Map.of(
      "SourceDatabase", "sourcedatabases.pgtrail.io-v1.yml",
      "TrackingPolicy", "trackingpolicies.pgtrail.io-v1.yml");
  private static final Map<String, JsonSchema> SCHEMAS = new TreeMap<>();

  private CrdSchemas() {}

  public static Set<String> kinds() {
    return FILE_BY_KIND.keySet();
  }

  /** The generated CRD document for {@code kind}. */
  public static JsonNode crd(String kind) {
    try {
      return YAML.readTree(GENERATED.resolve(FILE_BY_KIND.get(kind)).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the generated CRD of " + kind + " (run mvn process-classes)", e);
    }
  }

  /** Validation messages for {@code resource} (empty when valid). */
  public static List<String> validate(JsonNode resource) {
    String kind = resource.path("kind").asText();
    JsonSchema schema = schema(kind);
    Set<ValidationMessage> messages = schema.validate(resource);
    return messages.stream().map(ValidationMessage::getMessage).sorted().collect(Collectors.toList());
  }

  private static synchronized JsonSchema schema(String kind) {
    if (!FILE_BY_KIND.containsKey(kind)) {
      throw new IllegalArgumentException("no pgtrail CRD for kind " + kind);
    }
    return SCHEMAS.computeIfAbsent(kind, k -> {
      ObjectNode schema = (ObjectNode) crd(k).path("spec").path("versions").get(0)
          .path("schema").path("openAPIV3Schema").deepCopy();
      ObjectNode properties = schema.with("properties");
      properties.putObject("apiVersion").put("type", "string").put("const", "pgtrail.io/v1alpha1");
      properties.putObject("kind").put("type", "string").put("const", k);
      properties.putObject("metadata").put("type", "object");
      schema.putArray("required").add("apiVersion").add("kind").add("metadata");
      forbidUnknownFields(schema);
      return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(schema);
    });
  }

  private static void forbidUnknownFields(JsonNode node) {
    if (node instanceof ObjectNode object) {
      if (object.has("properties") && !object.has("additionalProperties")
          && !object.path("x-kubernetes-preserve-unknown-fields").asBoolean(false)
          && !"metadata".equals(object.path("__name").asText())) {
        object.put("additionalProperties", false);
      }
    }
    Iterator<JsonNode> children = node.elements();
    while (children.hasNext()) {
      forbidUnknownFields(children.next());
    }
  }
}
