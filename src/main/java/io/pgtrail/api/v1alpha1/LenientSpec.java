package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Decodes a spec without ever failing: a field that does not decode (a provider value newer than this
 * operator, a string where a number belongs) is dropped and described in {@link Decoded#invalidFields()},
 * so the reconciler reports it on that one object ({@code InvalidSpec}) while the informer, and every
 * other object, keep working. Unknown fields are ignored. The CRD schema (enums included) is unchanged:
 * this only decides what the operator does with an object the API server already accepted.
 */
public abstract class LenientSpec<T extends LenientSpec.Decoded> extends StdDeserializer<T> {
  /** A spec that remembers the fields it could not decode. */
  public interface Decoded {
    List<String> invalidFields();
  }

  private static final int MAX_PROBLEMS = 20;

  /**
   * Carries the decoding problems over to a copy made by serialization (they are not serialized: the
   * undecodable values are gone from the copy, so it would otherwise look merely incomplete).
   */
  public static <R> R keepProblems(Object original, R copy) {
    if (original instanceof io.fabric8.kubernetes.client.CustomResource<?, ?> from
        && copy instanceof io.fabric8.kubernetes.client.CustomResource<?, ?> to
        && from.getSpec() instanceof Decoded source && to.getSpec() instanceof Decoded target
        && target.invalidFields().isEmpty()) {
      target.invalidFields().addAll(source.invalidFields());
    }
    return copy;
  }
  private final Class<T> type;

  protected LenientSpec(Class<T> type) {
    super(type);
    this.type = type;
  }

  @Override
  public T deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
    ObjectMapper mapper = (ObjectMapper) p.getCodec();
    JsonNode tree = mapper.readTree(p);
    if (!tree.isObject()) {
      T empty = newEmpty(mapper);
      empty.invalidFields().add("spec: expected an object, got " + tree.getNodeType().name().toLowerCase());
      return empty;
    }
    ObjectNode spec = (ObjectNode) tree;
    List<String> problems = new ArrayList<>();
    while (true) {
      try {
        T decoded = mapper.readerFor(type).without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).readValue(spec);
        decoded.invalidFields().addAll(problems);
        return decoded;
      } catch (JsonMappingException e) {
        if (problems.size() >= MAX_PROBLEMS || !remove(spec, e.getPath())) {
          T empty = newEmpty(mapper);
          empty.invalidFields().addAll(problems);
          empty.invalidFields().add("spec: " + firstLine(e.getOriginalMessage()));
          return empty;
        }
        problems.add(describe(mapper, e));
      }
    }
  }

  private T newEmpty(ObjectMapper mapper) throws IOException {
    return mapper.readerFor(type).readValue("{}");
  }

  /** Removes the node the failure points at; false when the path does not lead anywhere removable. */
  private static boolean remove(ObjectNode root, List<JsonMappingException.Reference> path) {
    if (path.isEmpty()) {
      return false;
    }
    JsonNode parent = root;
    for (JsonMappingException.Reference ref : path.subList(0, path.size() - 1)) {
      parent = ref.getFieldName() != null ? parent.get(ref.getFieldName()) : parent.get(ref.getIndex());
      if (parent == null) {
        return false;
      }
    }
    JsonMappingException.Reference last = path.get(path.size() - 1);
    if (parent instanceof ObjectNode object && last.getFieldName() != null && object.has(last.getFieldName())) {
      object.remove(last.getFieldName());
      return true;
    }
    if (parent instanceof ArrayNode array && last.getFieldName() == null && last.getIndex() >= 0
        && last.getIndex() < array.size()) {
      array.remove(last.getIndex());
      return true;
    }
    return false;
  }

  private static String describe(ObjectMapper mapper, JsonMappingException e) {
    String field = "spec" + e.getPath().stream()
        .map(r -> r.getFieldName() != null ? "." + r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining());
    if (e instanceof InvalidFormatException invalid && invalid.getTargetType() != null
        && invalid.getTargetType().isEnum()) {
      String accepted = Arrays.stream(invalid.getTargetType().getEnumConstants())
          .map(c -> name(mapper, c)).collect(Collectors.joining(", "));
      return field + ": '" + shorten(String.valueOf(invalid.getValue())) + "' is not a value this operator knows"
          + " (accepted: " + accepted + "); upgrade the operator or use an accepted value";
    }
    if (e instanceof InvalidFormatException invalid) {
      return field + ": '" + shorten(String.valueOf(invalid.getValue())) + "' is not a valid "
          + simpleType(invalid.getTargetType());
    }
    return field + ": " + shorten(firstLine(e.getOriginalMessage()));
  }

  private static String simpleType(Class<?> type) {
    if (type == null) {
      return "value";
    }
    return switch (type.getSimpleName()) {
      case "Integer", "int", "Long", "long" -> "integer";
      case "Boolean", "boolean" -> "boolean (true or false)";
      default -> type.getSimpleName();
    };
  }

  private static String name(ObjectMapper mapper, Object constant) {
    try {
      return mapper.writeValueAsString(constant).replace("\"", "");
    } catch (IOException e) {
      return String.valueOf(constant);
    }
  }

  private static String shorten(String s) {
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  /** For {@link SourceDatabase#setSpec}. */
  public static final class ForSourceDatabase extends LenientSpec<SourceDatabaseSpec> {
    public ForSourceDatabase() {
      super(SourceDatabaseSpec.class);
    }
  }

  /** For {@link TrackingPolicy#setSpec}. */
  public static final class ForTrackingPolicy extends LenientSpec<TrackingPolicySpec> {
    public ForTrackingPolicy() {
      super(TrackingPolicySpec.class);
    }
  }
}
