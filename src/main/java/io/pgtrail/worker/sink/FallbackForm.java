package io.pgtrail.worker.sink;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrail.worker.Change;
import java.io.IOException;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The documented form of a change the destination refused as it was (docs/changes-table.md, "Fallback
 * forms"). Valid {@code json} that {@code jsonb} cannot hold becomes representable: a string with
 * {@code \u0000} or an unpaired surrogate keeps those characters spelled as their six-character escape
 * (the JSON text of the value), a number beyond {@code numeric}'s range becomes a JSON string of its text;
 * a primary key too long for the btree index is replaced by {@code sha256:<hex>} and kept whole in the
 * marker. The marker goes into {@code context.pgtrail.fallback}: the reason, the SQLSTATE that refused
 * the original, and the values that were rewritten.
 */
public final class FallbackForm {
  /** Keys longer than this (UTF-8 bytes) may not fit a btree index entry (about 2,700 bytes). */
  static final int MAX_INDEXED_KEY_BYTES = 2000;
  /** numeric's limits: 131,072 digits before the decimal point, 16,383 after. */
  private static final int NUMERIC_MAX_WEIGHT_DIGITS = 131_072;
  private static final int NUMERIC_MAX_SCALE = 16_383;

  static final String UNPARSABLE_KEY = "_json_text";

  private static final JsonFactory JSON = new JsonFactory();
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private FallbackForm() {}

  /** The change in fallback form, or null when no rewrite would change it (then it is set aside). */
  public static Change of(Change original, String sqlState) {
    List<String> rewritten = new ArrayList<>();
    String before = representable(original.before(), "before", rewritten);
    String after = representable(original.after(), "after", rewritten);
    String context = representable(original.context(), "context", rewritten);
    String key = original.primaryKey();
    String fullKey = null;
    if (key != null && key.getBytes(StandardCharsets.UTF_8).length > MAX_INDEXED_KEY_BYTES) {
      fullKey = key;
      key = "sha256:" + sha256(key);
      rewritten.add("primary_key");
    }
    if (rewritten.isEmpty()) {
      return null;
    }
    ObjectNode fallback = MAPPER.createObjectNode();
    fallback.put("reason", fullKey != null && rewritten.size() == 1 ? "PrimaryKeyTooLong" : "UnrepresentableValue");
    fallback.put("sqlstate", sqlState);
    fallback.putArray("rewritten").addAll(rewritten.stream().map(MAPPER.getNodeFactory()::textNode).toList());
    if (fullKey != null) {
      fallback.put("primary_key", fullKey);
    }
    return new Change(original.database(), original.schema(), original.table(), key, original.operation(),
        before, after, withMarker(context, fallback), original.committedAtMicros(), original.queuedAtMicros(),
        original.transactionId(), original.position());
  }

  /** {@code context} (a JSON object, or anything else kept under {@code _context}) with {@code pgtrail.fallback} set. */
  static String withMarker(String context, ObjectNode fallback) {
    ObjectNode root;
    try {
      root = MAPPER.readTree(context) instanceof ObjectNode o ? o : null;
    } catch (IOException e) {
      root = null;
    }
    if (root == null) {
      root = MAPPER.createObjectNode();
      root.put("_context", context);
    }
    ObjectNode pgtrail = root.get("pgtrail") instanceof ObjectNode o ? o : root.putObject("pgtrail");
    pgtrail.set("fallback", fallback);
    return root.toString();
  }

  /**
   * The JSON text with every value jsonb cannot hold rewritten; each top-level key that held one is added
   * to {@code rewritten} as {@code column.key}. Text that does not parse at all is kept as a string under
   * {@value #UNPARSABLE_KEY}.
   */
  static String representable(String json, String column, List<String> rewritten) {
    if (json == null) {
      return null;
    }
    StringWriter out = new StringWriter(json.length() + 16);
    int rewrittenBefore = rewritten.size();
    try (JsonParser p = JSON.createParser(json); JsonGenerator g = JSON.createGenerator(out)) {
      int depth = 0;
      String topKey = null;
      boolean topChanged = false;
      for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
        switch (t) {
          case START_OBJECT -> {
            g.writeStartObject();
            depth++;
          }
          case START_ARRAY -> {
            g.writeStartArray();
            depth++;
          }
          case END_OBJECT, END_ARRAY -> {
            if (t == JsonToken.END_OBJECT) {
              g.writeEndObject();
            } else {
              g.writeEndArray();
            }
            depth--;
          }
          case FIELD_NAME -> {
            String name = p.currentName();
            if (depth == 1) {
              if (topChanged) {
                rewritten.add(column + "." + topKey);
              }
              topKey = name;
              topChanged = false;
            }
            String safe = spelled(name);
            if (!safe.equals(name)) {
              topChanged = true;
            }
            g.writeFieldName(safe);
          }
          case VALUE_STRING -> {
            String text = p.getText();
            String safe = spelled(text);
            topChanged |= !safe.equals(text);
            g.writeString(safe);
          }
          case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
            String text = p.getText();
            if (fitsNumeric(text)) {
              g.writeNumber(text);
            } else {
              g.writeString(text);
              topChanged = true;
            }
          }
          case VALUE_TRUE, VALUE_FALSE -> g.writeBoolean(t == JsonToken.VALUE_TRUE);
          case VALUE_NULL -> g.writeNull();
          default -> throw new IOException("unexpected token " + t);
        }
      }
      if (topChanged) {
        rewritten.add(topKey == null ? column : column + "." + topKey);
      }
    } catch (IOException unparsable) {
      rewritten.subList(rewrittenBefore, rewritten.size()).clear();
      rewritten.add(column);
      return MAPPER.createObjectNode().put(UNPARSABLE_KEY, spelled(json)).toString();
    }
    return rewritten.size() > rewrittenBefore ? out.toString() : json;
  }

  /** The string with NUL and unpaired surrogates spelled as the six characters of their JSON escape. */
  static String spelled(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
      boolean bad = c == 0 || Character.isSurrogate(c) && !pairedHigh
          && !(Character.isLowSurrogate(c) && i > 0 && Character.isHighSurrogate(s.charAt(i - 1)));
      if (bad && sb == null) {
        sb = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      if (sb != null) {
        if (bad) {
          sb.append(String.format("\\u%04x", (int) c));
        } else {
          sb.append(c);
        }
      }
    }
    return sb == null ? s : sb.toString();
  }

  static boolean fitsNumeric(String text) {
    try {
      BigDecimal n = new BigDecimal(text);
      if (n.signum() == 0) {
        return n.scale() <= NUMERIC_MAX_SCALE;
      }
      return n.precision() - n.scale() <= NUMERIC_MAX_WEIGHT_DIGITS && n.scale() <= NUMERIC_MAX_SCALE;
    } catch (NumberFormatException | ArithmeticException e) {
      return false;
    }
  }

  static String sha256(String key) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
