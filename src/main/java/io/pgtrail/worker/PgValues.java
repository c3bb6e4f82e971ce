package io.pgtrail.worker;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.Map;

/**
 * Turns a PostgreSQL value in its text form into JSON by type: numbers stay numbers (numeric keeps every
 * digit), booleans become booleans, json/jsonb are embedded, arrays become JSON arrays, bytea stays the
 * {@code \x} hex text, everything else is its text form as a JSON string.
 */
public final class PgValues {
  static final int BOOL = 16;
  static final int BYTEA = 17;
  static final int INT8 = 20;
  static final int INT2 = 21;
  static final int INT4 = 23;
  static final int OID = 26;
  static final int JSON = 114;
  static final int FLOAT4 = 700;
  static final int FLOAT8 = 701;
  static final int NUMERIC = 1700;
  static final int JSONB = 3802;
  static final int TEXT = 25;

  /** Built-in array types and their element types (custom arrays fall back to text). */
  private static final Map<Integer, Integer> ARRAY_ELEMENTS = Map.ofEntries(
      Map.entry(1000, BOOL), Map.entry(1001, BYTEA), Map.entry(1005, INT2), Map.entry(1007, INT4),
      Map.entry(1016, INT8), Map.entry(1028, OID), Map.entry(1021, FLOAT4), Map.entry(1022, FLOAT8),
      Map.entry(1231, NUMERIC), Map.entry(199, JSON), Map.entry(3807, JSONB), Map.entry(1009, TEXT),
      Map.entry(1015, TEXT), Map.entry(1014, TEXT), Map.entry(1003, TEXT), Map.entry(2951, TEXT),
      Map.entry(1115, TEXT), Map.entry(1185, TEXT), Map.entry(1182, TEXT), Map.entry(1183, TEXT),
      Map.entry(1270, TEXT), Map.entry(1187, TEXT), Map.entry(651, TEXT), Map.entry(1041, TEXT),
      Map.entry(1040, TEXT), Map.entry(143, TEXT), Map.entry(1002, TEXT), Map.entry(3643, TEXT),
      Map.entry(1561, TEXT), Map.entry(1563, TEXT), Map.entry(791, TEXT));

  private static final com.fasterxml.jackson.core.JsonFactory ARRAY_JSON = new com.fasterxml.jackson.core.JsonFactory();

  private PgValues() {}

  public static void write(JsonGenerator g, int typeOid, String text) throws IOException {
    if (text == null) {
      g.writeNull();
      return;
    }
    switch (typeOid) {
      case INT2, INT4, INT8, OID -> g.writeNumber(text);
      case FLOAT4, FLOAT8, NUMERIC -> writeDecimal(g, text);
      case BOOL -> g.writeBoolean(text.equals("t"));
      case JSON, JSONB -> g.writeRawValue(text);
      case BYTEA -> g.writeString(byteaHex(text));
      default -> {
        Integer element = ARRAY_ELEMENTS.get(typeOid);
        if (element != null) {
          writeArray(g, text, element);
        } else {
          g.writeString(text);
        }
      }
    }
  }

  /** Parsed into its own buffer first, so a literal that cannot be parsed is still recorded as text. */
  private static void writeArray(JsonGenerator g, String text, int elementType) throws IOException {
    java.io.StringWriter json = new java.io.StringWriter(text.length() + 8);
    try (JsonGenerator arrayGenerator = ARRAY_JSON.createGenerator(json)) {
      new ArrayParser(text, elementType).writeTo(arrayGenerator);
    } catch (RuntimeException unparseable) {
      g.writeString(text);
      return;
    }
    g.writeRawValue(json.toString());
  }

  /** NaN and infinities have no JSON number; they stay strings. */
  private static void writeDecimal(JsonGenerator g, String text) throws IOException {
    char first = text.charAt(0);
    if (first == 'N' || first == 'I' || (first == '-' && text.length() > 1 && text.charAt(1) == 'I')) {
      g.writeString(text);
    } else {
      g.writeNumber(text);
    }
  }

  /** The hex form whatever {@code bytea_output} the server uses. */
  static String byteaHex(String text) {
    if (text.startsWith("\\x")) {
      return text;
    }
    StringBuilder hex = new StringBuilder("\\x");
    for (int i = 0; i < text.length(); i++) {
      int b;
      char c = text.charAt(i);
      if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '\\') {
        b = '\\';
        i++;
      } else if (c == '\\' && i + 3 < text.length()) {
        b = Integer.parseInt(text.substring(i + 1, i + 4), 8);
        i += 3;
      } else {
        b = c;
      }
      hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
    }
    return hex.toString();
  }

  /** PostgreSQL's array text form: {@code {1,NULL,"a b"}}, nested for more dimensions. */
  private static final class ArrayParser {
    private final String text;
    private final int elementType;
    private int pos;

    ArrayParser(String text, int elementType) {
      this.text = text;
      this.elementType = elementType;
      // explicit bounds such as [0:1]={..} precede the braces
      this.pos = text.startsWith("[") ? text.indexOf('=') + 1 : 0;
    }

    void writeTo(JsonGenerator g) throws IOException {
      array(g);
    }

    private void array(JsonGenerator g) throws IOException {
      expect('{');
      g.writeStartArray();
      if (text.charAt(pos) == '}') {
        pos++;
        g.writeEndArray();
        return;
      }
      while (true) {
        char c = text.charAt(pos);
        if (c == '{') {
          array(g);
        } else if (c == '"') {
          write(g, elementType, quoted());
        } else {
          String raw = unquoted();
          write(g, elementType, raw.equals("NULL") ? null : raw);
        }
        char sep = text.charAt(pos++);
        if (sep == '}') {
          break;
        }
        if (sep != ',') {
          throw new IllegalArgumentException("malformed array literal near position " + pos);
        }
      }
      g.writeEndArray();
    }

    private String quoted() {
      StringBuilder sb = new StringBuilder();
      pos++;
      while (true) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return sb.toString();
        }
        if (c == '\\') {
          c = text.charAt(pos++);
        }
        sb.append(c);
      }
    }

    private String unquoted() {
      int start = pos;
      while (text.charAt(pos) != ',' && text.charAt(pos) != '}') {
        pos++;
      }
      return text.substring(start, pos).trim();
    }

    private void expect(char c) {
      if (text.charAt(pos) != c) {
        throw new IllegalArgumentException("malformed array literal: expected '" + c + "'");
      }
      pos++;
    }
  }
}
