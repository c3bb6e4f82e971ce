package io.pgtrail.worker;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Turns a PostgreSQL value in its text output form into the JSON that {@code to_jsonb()} gives for it,
 * by its {@link PgType}: numbers stay numbers (every digit kept; NaN and the infinities become strings,
 * as in to_jsonb), booleans become booleans, json/jsonb are embedded, timestamps become ISO 8601
 * ({@code 2024-01-02T03:04:05}, with {@code +00:00} style offsets), arrays (and int2vector/oidvector)
 * become JSON arrays, composites JSON objects, hstore an object of strings, bytea its hex text; every
 * other type its text output as a JSON string. See docs/values.md.
 *
 * <p>The text forms assumed are those of the session settings {@link #useCanonicalOutput} sets. A value
 * whose text cannot be parsed as its type says (which a type changed behind the worker's back could
 * cause) is recorded as its text, as a JSON string, rather than lost.
 */
public final class PgValues {
  /**
   * The output settings of the replication session: the worker's values do not depend on the server's
   * defaults, and timestamptz values are rendered in UTC whatever the source's time zone.
   */
  public static final String CANONICAL_OUTPUT_SQL = "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY';"
      + " SET IntervalStyle = 'postgres'; SET bytea_output = 'hex'";

  private PgValues() {}

  /** Runs {@link #CANONICAL_OUTPUT_SQL} on the replication connection, before the stream starts. */
  public static void useCanonicalOutput(Connection replication) throws SQLException {
    try (Statement s = replication.createStatement()) {
      s.execute(CANONICAL_OUTPUT_SQL);
    }
  }

  /** For callers that know only a built-in type OID (no catalog). */
  public static boolean write(JsonGenerator g, int typeOid, String text) throws IOException {
    return write(g, PgType.builtin(typeOid), text);
  }

  /** Writes one value; false when its text did not parse as {@code type} and was written as text instead. */
  public static boolean write(JsonGenerator g, PgType type, String text) throws IOException {
    if (text == null) {
      g.writeNull();
      return true;
    }
    return switch (type.form()) {
      case ARRAY, VECTOR, COMPOSITE, HSTORE -> writeParsedOrText(g, type, text);
      default -> {
        writeScalar(g, type, text);
        yield true;
      }
    };
  }

  /** Parsed into a buffer first, so a literal that cannot be parsed is still recorded, as text. */
  private static boolean writeParsedOrText(JsonGenerator g, PgType type, String text) throws IOException {
    JsonTextBuffer buffer = BUFFER.get();
    try {
      writeStructured(buffer.start(text.length()), type, text);
    } catch (RuntimeException unparseable) {
      buffer.discardGenerator();
      g.writeString(text);
      return false;
    }
    g.writeRawValue(buffer.text());
    return true;
  }

  /** One per thread, apart from the row's own generator that the parsed value is copied into. */
  private static final ThreadLocal<JsonTextBuffer> BUFFER = ThreadLocal.withInitial(JsonTextBuffer::new);

  private static void writeStructured(JsonGenerator g, PgType type, String text) throws IOException {
    if (text == null) {
      g.writeNull();
      return;
    }
    switch (type.form()) {
      case ARRAY -> new Literal(text).array(g, type);
      case VECTOR -> writeVector(g, type, text);
      case COMPOSITE -> new Literal(text).record(g, type);
      case HSTORE -> new Literal(text).hstore(g);
      default -> writeScalar(g, type, text);
    }
  }

  private static void writeScalar(JsonGenerator g, PgType type, String text) throws IOException {
    switch (type.form()) {
      case NUMBER -> writeNumber(g, text);
      case BOOL -> g.writeBoolean(text.equals("t"));
      case JSON -> g.writeRawValue(text);
      case TIMESTAMP -> g.writeString(isoTimestamp(text, false));
      case TIMESTAMPTZ -> g.writeString(isoTimestamp(text, true));
      case BYTEA -> g.writeString(byteaHex(text));
      default -> g.writeString(text);
    }
  }

  /** NaN and the infinities have no JSON number; to_jsonb makes them strings too. */
  private static void writeNumber(JsonGenerator g, String text) throws IOException {
    char first = text.charAt(0);
    if (first == 'N' || first == 'I' || (first == '-' && text.length() > 1 && text.charAt(1) == 'I')) {
      g.writeString(text);
    } else {
      g.writeNumber(text);
    }
  }

  /** int2vector and oidvector print their elements separated by single spaces. */
  private static void writeVector(JsonGenerator g, PgType type, String text) throws IOException {
    g.writeStartArray();
    int start = 0;
    while (start < text.length()) {
      int end = text.indexOf(' ', start);
      if (end < 0) {
        end = text.length();
      }
      if (end > start) {
        writeScalar(g, type.element(), text.substring(start, end));
      }
      start = end + 1;
    }
    g.writeEndArray();
  }

  /**
   * ISO 8601 as to_jsonb writes it: {@code T} between date and time, offsets with minutes
   * ({@code +05:30}, {@code +00:00}); {@code infinity}, {@code -infinity} and the {@code BC} suffix stay.
   */
  static String isoTimestamp(String text, boolean withZone) {
    int space = text.indexOf(' ');
    if (space < 0 || !Character.isDigit(text.charAt(0))) {
      return text;
    }
    boolean bc = text.endsWith(" BC");
    int end = bc ? text.length() - 3 : text.length();
    StringBuilder iso = new StringBuilder(text.length() + 4).append(text, 0, space).append('T')
        .append(text, space + 1, end);
    if (withZone) {
      int sign = Math.max(text.lastIndexOf('+', end - 1), text.lastIndexOf('-', end - 1));
      if (sign > space && end - sign == 3) {
        iso.append(":00");
      }
    }
    if (bc) {
      iso.append(" BC");
    }
    return iso.toString();
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

  /** A cursor over one literal in PostgreSQL's array, record or hstore text form. */
  private static final class Literal {
    private final String text;
    private int pos;

    Literal(String text) {
      this.text = text;
    }

    /** {@code {1,NULL,"a b"}}, nested for more dimensions, optionally after bounds like {@code [0:1]=}. */
    void array(JsonGenerator g, PgType type) throws IOException {
      if (text.startsWith("[")) {
        pos = text.indexOf('=') + 1;
      }
      arrayLevel(g, type);
      requireEnd();
    }

    private void arrayLevel(JsonGenerator g, PgType type) throws IOException {
      expect('{');
      g.writeStartArray();
      if (peek() == '}') {
        pos++;
        g.writeEndArray();
        return;
      }
      char delimiter = type.delimiter();
      while (true) {
        char c = peek();
        if (c == '{') {
          arrayLevel(g, type);
        } else if (c == '"') {
          writeStructured(g, type.element(), quoted());
        } else {
          String raw = unquoted(delimiter, '}');
          writeStructured(g, type.element(), raw.equals("NULL") ? null : raw);
        }
        char separator = next();
        if (separator == '}') {
          break;
        }
        if (separator != delimiter) {
          throw new IllegalArgumentException("malformed array literal near position " + pos);
        }
      }
      g.writeEndArray();
    }

    /**
     * {@code (1,,"a ""b""",\,)}: an empty field is NULL, quotes double, backslashes escape. Fewer fields
     * than the type has now are the leading ones: the value predates an {@code ALTER TYPE ... ADD ATTRIBUTE}.
     */
    void record(JsonGenerator g, PgType type) throws IOException {
      String[] names = type.fieldNames();
      PgType[] types = type.fieldTypes();
      expect('(');
      g.writeStartObject();
      boolean closed = names.length == 0 && next() == ')';
      for (int i = 0; i < names.length && !closed; i++) {
        g.writeFieldName(names[i]);
        writeStructured(g, types[i], recordField());
        char separator = next();
        closed = separator == ')';
        if (!closed && (separator != ',' || i == names.length - 1)) {
          throw new IllegalArgumentException("record literal with more than " + names.length + " fields");
        }
      }
      if (!closed) {
        throw new IllegalArgumentException("unterminated record literal");
      }
      g.writeEndObject();
      requireEnd();
    }

    private String recordField() {
      StringBuilder field = new StringBuilder();
      boolean present = false;
      boolean inQuotes = false;
      while (true) {
        char c = peek();
        if (!inQuotes && (c == ',' || c == ')')) {
          return present ? field.toString() : null;
        }
        present = true;
        pos++;
        if (c == '"') {
          if (inQuotes && peek() == '"') {
            field.append('"');
            pos++;
          } else {
            inQuotes = !inQuotes;
          }
        } else if (c == '\\') {
          field.append(next());
        } else {
          field.append(c);
        }
      }
    }

    /** {@code "a"=>"1", "b"=>NULL}: an object of strings, as the extension's cast to json gives. */
    void hstore(JsonGenerator g) throws IOException {
      g.writeStartObject();
      skipSpaces();
      while (pos < text.length()) {
        g.writeFieldName(quoted());
        skipSpaces();
        expect('=');
        expect('>');
        skipSpaces();
        if (peek() == '"') {
          g.writeString(quoted());
        } else {
          String raw = unquoted(',', ',');
          if (!raw.equals("NULL")) {
            throw new IllegalArgumentException("unquoted hstore value");
          }
          g.writeNull();
        }
        skipSpaces();
        if (pos < text.length()) {
          expect(',');
          skipSpaces();
        }
      }
      g.writeEndObject();
    }

    private String quoted() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      while (true) {
        char c = next();
        if (c == '"') {
          return sb.toString();
        }
        sb.append(c == '\\' ? next() : c);
      }
    }

    private String unquoted(char delimiter, char close) {
      int start = pos;
      while (pos < text.length() && text.charAt(pos) != delimiter && text.charAt(pos) != close) {
        pos++;
      }
      return text.substring(start, pos).trim();
    }

    private void skipSpaces() {
      while (pos < text.length() && text.charAt(pos) == ' ') {
        pos++;
      }
    }

    private char peek() {
      return text.charAt(pos);
    }

    private char next() {
      return text.charAt(pos++);
    }

    private void expect(char c) {
      if (next() != c) {
        throw new IllegalArgumentException("malformed literal: expected '" + c + "' at position " + (pos - 1));
      }
    }

    private void requireEnd() {
      if (pos != text.length()) {
        throw new IllegalArgumentException("trailing characters after a literal at position " + pos);
      }
    }
  }
}
