package io.pgtrail.demo;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The destination's {@code changes} rows, read back and shown as a table a person can scan. */
final class RecordedChanges {
  // numeric values as recorded (49.90 stays 49.90)
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .setNodeFactory(JsonNodeFactory.withExactBigDecimals(true));
  private static final int MAX_VALUE = 32;
  private static final Pattern TIMESTAMP =
      Pattern.compile("\\d{4}-\\d\\d-\\d\\d[ T](\\d\\d:\\d\\d:\\d\\d)(\\.\\d+)?([+-]\\d\\d(:?\\d\\d)?|Z)?");

  /**
   * One recorded change. {@code fields}: for CREATE and DELETE the row's values, for UPDATE the columns
   * whose value changed ("old → new"); {@code context} is the application context Bemi-style comments set.
   */
  record Row(String operation, String table, String key, Map<String, String> fields, Map<String, String> context) {}

  private RecordedChanges() {}

  static List<Row> read(ConnectionSettings destination) throws SQLException, PgConnectException {
    List<Row> rows = new ArrayList<>();
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT operation, \"schema\", \"table\", primary_key, \"before\"::text,"
            + " \"after\"::text, context::text FROM changes ORDER BY \"position\", id")) {
      while (rs.next()) {
        String operation = rs.getString(1);
        JsonNode before = parse(rs.getString(5));
        JsonNode after = parse(rs.getString(6));
        rows.add(new Row(operation, rs.getString(2) + "." + rs.getString(3), rs.getString(4),
            fields(operation, before, after), flat(parse(rs.getString(7)))));
      }
    }
    return rows;
  }

  /** How many changes of {@code operation} on {@code schema.table} are recorded (0 while the table is absent). */
  static int count(ConnectionSettings destination, String operation, String schema, String table) throws SQLException, PgConnectException {
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement()) {
      try (ResultSet exists = s.executeQuery("SELECT to_regclass('public.changes') IS NOT NULL")) {
        exists.next();
        if (!exists.getBoolean(1)) {
          return 0;
        }
      }
      try (var ps = c.prepareStatement("SELECT count(*) FROM changes WHERE operation = ? AND \"schema\" = ?"
          + " AND \"table\" = ?")) {
        ps.setString(1, operation);
        ps.setString(2, schema);
        ps.setString(3, table);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return rs.getInt(1);
        }
      }
    }
  }

  private static JsonNode parse(String json) {
    try {
      return json == null ? JSON.createObjectNode() : JSON.readTree(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("changes holds invalid JSON", e);
    }
  }

  private static Map<String, String> fields(String operation, JsonNode before, JsonNode after) {
    Map<String, String> fields = new LinkedHashMap<>();
    switch (operation) {
      case "CREATE" -> flat(after).forEach(fields::put);
      case "DELETE" -> flat(before).forEach(fields::put);
      case "UPDATE" -> {
        for (Iterator<String> names = after.fieldNames(); names.hasNext(); ) {
          String name = names.next();
          if (!Objects.equals(before.get(name), after.get(name))) {
            fields.put(name, shorten(text(before.get(name))) + " → " + shorten(text(after.get(name))));
          }
        }
      }
      default -> { }
    }
    return fields;
  }

  private static Map<String, String> flat(JsonNode object) {
    Map<String, String> values = new LinkedHashMap<>();
    object.fields().forEachRemaining(e -> values.put(e.getKey(), text(e.getValue())));
    return values;
  }

  private static String text(JsonNode value) {
    return value == null || value.isNull() ? "null" : value.isValueNode() ? value.asText() : value.toString();
  }

  // ---- rendering --------------------------------------------------------------------------------

  static void print(Terminal t, List<Row> rows) {
    List<String[]> cells = new ArrayList<>();
    cells.add(new String[] {"OPERATION", "TABLE", "KEY", "CHANGED FIELDS", "CONTEXT"});
    for (Row row : rows) {
      cells.add(new String[] {row.operation(), row.table(), Objects.toString(row.key(), "-"),
          describeFields(row), describe(row.context())});
    }
    int[] widths = new int[5];
    for (String[] line : cells) {
      for (int i = 0; i < line.length; i++) {
        widths[i] = Math.max(widths[i], line[i].length());
      }
    }
    for (int r = 0; r < cells.size(); r++) {
      String[] line = cells.get(r);
      StringBuilder out = new StringBuilder("  ");
      for (int i = 0; i < line.length; i++) {
        String cell = r == 0 ? t.bold(line[i]) : i == 0 ? colourOperation(t, line[i]) : i == 4 ? t.cyan(line[i])
            : line[i];
        out.append(i == line.length - 1 ? cell : Terminal.pad(cell, widths[i] + 2));
      }
      t.println(out.toString().stripTrailing());
    }
  }

  private static String colourOperation(Terminal t, String operation) {
    return switch (operation) {
      case "CREATE" -> t.green(operation);
      case "DELETE" -> t.red(operation);
      default -> t.yellow(operation);
    };
  }

  /** CREATE and DELETE list the row's values (the key and nulls left out), UPDATE the changed columns. */
  private static String describeFields(Row row) {
    List<String> parts = new ArrayList<>();
    row.fields().forEach((name, value) -> {
      if (row.operation().equals("UPDATE")) {
        parts.add(name + ": " + value);
      } else if (!name.equals("id") && !value.equals("null")) {
        parts.add(name + "=" + shorten(value));
      }
    });
    return parts.isEmpty() ? "-" : String.join(", ", parts);
  }

  private static String describe(Map<String, String> context) {
    if (context.isEmpty()) {
      return "-";
    }
    List<String> parts = new ArrayList<>();
    context.forEach((k, v) -> parts.add(k + "=" + v));
    return String.join(" ", parts);
  }

  /** Timestamps of today's demo shown as their time of day (with milliseconds); long values cut. */
  static String shorten(String value) {
    Matcher timestamp = TIMESTAMP.matcher(value);
    if (timestamp.matches()) {
      String fraction = timestamp.group(2) == null ? "" : timestamp.group(2);
      return timestamp.group(1) + fraction.substring(0, Math.min(fraction.length(), 4));
    }
    return value.length() <= MAX_VALUE ? value : value.substring(0, MAX_VALUE - 1) + "…";
  }
}
