package io.pgtrail.worker;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code ignoreColumns}: columns whose changes alone do not make an UPDATE worth recording. Entries are
 * {@code table.column}, {@code schema.table.column} or {@code *.column} (any table).
 */
public final class ColumnFilter {
  private record Rule(String schema, String table, String column) {
    boolean matches(String s, String t, String c) {
      return column.equals(c) && (table == null || table.equals(t)) && (schema == null || schema.equals(s));
    }
  }

  private final List<Rule> rules;

  private ColumnFilter(List<Rule> rules) {
    this.rules = rules;
  }

  public static ColumnFilter none() {
    return new ColumnFilter(List.of());
  }

  public static ColumnFilter parse(List<String> entries) {
    List<Rule> rules = new ArrayList<>();
    for (String entry : entries) {
      String[] parts = entry == null ? new String[0] : entry.split("\\.", -1);
      boolean valid = (parts.length == 2 || parts.length == 3);
      for (String part : parts) {
        valid &= !part.isEmpty();
      }
      if (!valid) {
        throw new IllegalArgumentException("ignoreColumns entry '" + entry
            + "' must look like table.column, schema.table.column or *.column");
      }
      if (parts.length == 2) {
        rules.add(new Rule(null, parts[0].equals("*") ? null : parts[0], parts[1]));
      } else {
        rules.add(new Rule(parts[0].equals("*") ? null : parts[0], parts[1].equals("*") ? null : parts[1], parts[2]));
      }
    }
    return new ColumnFilter(List.copyOf(rules));
  }

  public boolean isEmpty() {
    return rules.isEmpty();
  }

  public boolean ignores(String schema, String table, String column) {
    for (Rule rule : rules) {
      if (rule.matches(schema, table, column)) {
        return true;
      }
    }
    return false;
  }

  /** True when at least one column changed and every changed column is ignored. */
  public boolean onlyIgnoredChanged(String schema, String table, List<String> changedColumns) {
    if (rules.isEmpty() || changedColumns.isEmpty()) {
      return false;
    }
    for (String column : changedColumns) {
      if (!ignores(schema, table, column)) {
        return false;
      }
    }
    return true;
  }
}
