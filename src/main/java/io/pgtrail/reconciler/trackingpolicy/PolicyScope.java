package io.pgtrail.reconciler.trackingpolicy;

import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.postgres.catalog.QualifiedName;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One TrackingPolicy's scope, parsed and checked. {@link #covers} decides whether a table belongs to it
 * (used to list a policy's own tables out of the source's union).
 */
public record PolicyScope(
    String policyName,
    boolean allTables,
    List<String> schemas,
    List<QualifiedName> tables,
    List<QualifiedName> excludeTables,
    List<String> ignoreColumns,
    boolean trackNewTables,
    boolean captureContext) {

  public static final String DEFAULT_SCHEMA = "public";
  private static final Pattern IDENT = Pattern.compile("[A-Za-z0-9_$]+");

  /** Parses a policy spec; throws IllegalArgumentException with a message that names the bad field. */
  public static PolicyScope parse(String policyName, TrackingPolicySpec spec) {
    if (spec != null && !spec.invalidFields().isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", spec.invalidFields()));
    }
    if (spec == null || spec.sourceRef == null || spec.sourceRef.name == null || spec.sourceRef.name.isBlank()) {
      throw new IllegalArgumentException("spec.sourceRef.name is required");
    }
    List<String> schemas = new ArrayList<>();
    for (String s : nullToEmpty(spec.schemas)) {
      if (s == null || s.isBlank() || s.length() > 63) {
        throw new IllegalArgumentException("spec.schemas: '" + s + "' is not a schema name (1-63 characters)");
      }
      schemas.add(s);
    }
    List<QualifiedName> tables = parseTables("spec.tables", spec.tables);
    List<QualifiedName> excludes = parseTables("spec.excludeTables", spec.excludeTables);
    List<String> ignore = new ArrayList<>();
    for (String column : nullToEmpty(spec.ignoreColumns)) {
      ignore.add(checkColumn(column));
    }
    boolean all = Boolean.TRUE.equals(spec.allTables);
    if (schemas.isEmpty() && tables.isEmpty() && !all) {
      schemas.add(DEFAULT_SCHEMA);
    }
    return new PolicyScope(policyName, all, List.copyOf(schemas), tables, excludes, List.copyOf(ignore),
        spec.trackNewTables == null || spec.trackNewTables, Boolean.TRUE.equals(spec.captureContext));
  }

  private static List<QualifiedName> parseTables(String field, List<String> names) {
    List<QualifiedName> out = new ArrayList<>();
    for (String name : nullToEmpty(names)) {
      try {
        out.add(QualifiedName.parse(name, DEFAULT_SCHEMA));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(field + ": " + e.getMessage());
      }
    }
    return List.copyOf(out);
  }

  /** table.column, schema.table.column or *.column. */
  static String checkColumn(String column) {
    String[] parts = column == null ? new String[0] : column.split("\\.", -1);
    boolean ok = parts.length >= 2 && parts.length <= 3;
    for (int i = 0; ok && i < parts.length; i++) {
      boolean wildcard = parts[i].equals("*") && i == 0 && parts.length == 2;
      ok = wildcard || IDENT.matcher(parts[i]).matches();
    }
    if (!ok) {
      throw new IllegalArgumentException("spec.ignoreColumns: '" + column
          + "' is not table.column, schema.table.column or *.column");
    }
    return column;
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }

  public boolean covers(QualifiedName table) {
    if (excludeTables.contains(table)) {
      return false;
    }
    return allTables || schemas.contains(table.schema()) || tables.contains(table);
  }
}
