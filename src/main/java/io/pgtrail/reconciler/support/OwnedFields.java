package io.pgtrail.reconciler.support;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Compares the fields pgtrail sets on an object with the object as stored. The desired tree must be
 * contained in the actual one: fields the API server adds (defaults such as {@code dnsPolicy},
 * {@code terminationMessagePath}) are tolerated, while every value pgtrail set must still be there.
 * Maps listed as exact (ConfigMap and Secret {@code data}) must also carry no extra keys.
 */
public final class OwnedFields {
  private OwnedFields() {}

  /** JSON paths (e.g. {@code spec.replicas}) where {@code actual} no longer carries what {@code desired} sets. */
  public static List<String> differences(JsonNode desired, JsonNode actual, List<String> exactMaps) {
    List<String> out = new ArrayList<>();
    compare("", desired, actual, exactMaps, out);
    return out;
  }

  private static void compare(String path, JsonNode desired, JsonNode actual, List<String> exactMaps,
      List<String> out) {
    if (isEmpty(desired)) {
      // the API server drops empty strings, maps and lists (omitempty): absent equals empty
      if (actual != null && !actual.isNull() && !isEmpty(actual)) {
        out.add(path);
      }
      return;
    }
    if (actual == null || actual.isNull() || actual.getNodeType() != desired.getNodeType()) {
      if (!(desired.isNumber() && actual != null && actual.isNumber())) {
        out.add(path);
        return;
      }
    }
    if (desired.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = desired.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> field = it.next();
        compare(join(path, field.getKey()), field.getValue(), actual.get(field.getKey()), exactMaps, out);
      }
      if (exactMaps.contains(path)) {
        for (Iterator<String> names = actual.fieldNames(); names.hasNext();) {
          String name = names.next();
          if (!desired.has(name)) {
            out.add(join(path, name));
          }
        }
      }
    } else if (desired.isArray()) {
      if (desired.size() != actual.size()) {
        out.add(path);
        return;
      }
      for (int i = 0; i < desired.size(); i++) {
        compare(path + "[" + i + "]", desired.get(i), actual.get(i), exactMaps, out);
      }
    } else if (desired.isNumber()) {
      if (desired.decimalValue().compareTo(actual.decimalValue()) != 0) {
        out.add(path);
      }
    } else if (!desired.equals(actual)) {
      out.add(path);
    }
  }

  private static boolean isEmpty(JsonNode node) {
    return node == null || node.isNull() || (node.isTextual() && node.asText().isEmpty())
        || ((node.isObject() || node.isArray()) && node.isEmpty());
  }

  private static String join(String path, String field) {
    String name = field.matches("[A-Za-z0-9_-]+") ? field : "'" + field + "'";
    return path.isEmpty() ? name : path + "." + name;
  }
}
