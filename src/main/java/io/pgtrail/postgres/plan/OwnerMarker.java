package io.pgtrail.postgres.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrail.postgres.catalog.QualifiedName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The ownership marker pgtrail writes as the publication's comment: who owns the publication and slot,
 * and what pgtrail changed (tables it set to REPLICA IDENTITY FULL, context triggers it installed), so
 * teardown undoes exactly that and nothing else.
 */
public record OwnerMarker(
    String ownerId,
    String slot,
    List<QualifiedName> replicaIdentityFull,
    List<QualifiedName> contextTriggers,
    String contextFunctionSchema) {
  static final String MANAGED_BY = "pgtrail";
  private static final ObjectMapper JSON = new ObjectMapper();

  public OwnerMarker {
    replicaIdentityFull = List.copyOf(new TreeSet<>(replicaIdentityFull == null ? List.of() : replicaIdentityFull));
    contextTriggers = List.copyOf(new TreeSet<>(contextTriggers == null ? List.of() : contextTriggers));
  }

  /** The comment text: a JSON object with {@code "managedBy": "pgtrail"}. */
  public String toComment() {
    ObjectNode root = JSON.createObjectNode();
    root.put("managedBy", MANAGED_BY);
    root.put("owner", ownerId);
    root.put("slot", slot);
    root.set("replicaIdentityFull", toArray(replicaIdentityFull));
    root.set("contextTriggers", toArray(contextTriggers));
    if (contextFunctionSchema != null) {
      root.put("contextFunctionSchema", contextFunctionSchema);
    }
    return root.toString();
  }

  private static ArrayNode toArray(List<QualifiedName> names) {
    ArrayNode array = JSON.createArrayNode();
    for (QualifiedName n : names) {
      array.addArray().add(n.schema()).add(n.table());
    }
    return array;
  }

  /** Parses a publication comment; empty when it is not a pgtrail marker. */
  public static Optional<OwnerMarker> parse(String comment) {
    if (comment == null || !comment.startsWith("{")) {
      return Optional.empty();
    }
    try {
      JsonNode root = JSON.readTree(comment);
      if (!MANAGED_BY.equals(root.path("managedBy").asText())) {
        return Optional.empty();
      }
      return Optional.of(new OwnerMarker(root.path("owner").asText(), root.path("slot").asText(),
          fromArray(root.path("replicaIdentityFull")), fromArray(root.path("contextTriggers")),
          root.hasNonNull("contextFunctionSchema") ? root.get("contextFunctionSchema").asText() : null));
    } catch (Exception e) {
      return Optional.empty();
    }
  }

  private static List<QualifiedName> fromArray(JsonNode node) {
    List<QualifiedName> names = new ArrayList<>();
    for (JsonNode pair : node) {
      names.add(new QualifiedName(pair.get(0).asText(), pair.get(1).asText()));
    }
    return names;
  }
}
