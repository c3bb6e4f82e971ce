package io.pgtrail.postgres.catalog;

import java.util.ArrayList;
import java.util.List;

/** A schema-qualified table name; {@link #toString()} is the unquoted {@code schema.table} form. */
public record QualifiedName(String schema, String table) implements Comparable<QualifiedName> {
  public QualifiedName {
    if (schema == null || schema.isEmpty() || table == null || table.isEmpty()) {
      throw new IllegalArgumentException("a table name needs a schema and a table");
    }
  }

  /**
   * Parses {@code table}, {@code schema.table}, or quoted parts such as {@code "my.schema"."Weird ""t"""}.
   * An unqualified name belongs to {@code defaultSchema}. Unquoted parts are taken literally (not
   * folded to lower case), because tracking configuration names tables as they are in the catalog.
   */
  public static QualifiedName parse(String text, String defaultSchema) {
    List<String> parts = splitParts(text);
    if (parts.size() == 1) {
      return new QualifiedName(defaultSchema, parts.get(0));
    }
    if (parts.size() == 2) {
      return new QualifiedName(parts.get(0), parts.get(1));
    }
    throw new IllegalArgumentException("table name '" + Identifiers.printable(text)
        + "' is invalid: use table or schema.table (quote parts that contain dots: \"a.b\".t)");
  }

  private static List<String> splitParts(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("table name is empty");
    }
    List<String> parts = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quoted) {
        if (c == '"') {
          if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
            current.append('"');
            i++;
          } else {
            quoted = false;
          }
        } else {
          current.append(c);
        }
      } else if (c == '"' && current.length() == 0) {
        quoted = true;
        wasQuoted = true;
      } else if (c == '.') {
        addPart(parts, current, text);
        current.setLength(0);
        wasQuoted = false;
      } else {
        current.append(c);
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("table name '" + Identifiers.printable(text) + "' has an unclosed quote");
    }
    addPart(parts, current, text);
    return parts;
  }

  private static void addPart(List<String> parts, StringBuilder current, String text) {
    if (current.length() == 0) {
      throw new IllegalArgumentException("table name '" + Identifiers.printable(text) + "' has an empty part");
    }
    parts.add(current.toString());
  }

  /** {@code "schema"."table"}, safe to splice into SQL. */
  public String quoted() {
    return Identifiers.quote(schema) + "." + Identifiers.quote(table);
  }

  @Override
  public String toString() {
    return schema + "." + table;
  }

  @Override
  public int compareTo(QualifiedName o) {
    int c = schema.compareTo(o.schema);
    return c != 0 ? c : table.compareTo(o.table);
  }
}
