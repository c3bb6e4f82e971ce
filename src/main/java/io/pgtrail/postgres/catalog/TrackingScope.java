package io.pgtrail.postgres.catalog;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which tables to track: every table of {@code schemas} plus the listed {@code tables}, minus
 * {@code excludeTables}; or every user table when {@code allTables}. With nothing given the
 * {@code public} schema is tracked, as Bemi does.
 */
public record TrackingScope(
    List<String> schemas, List<QualifiedName> tables, List<QualifiedName> excludeTables, boolean allTables) {
  public static final String DEFAULT_SCHEMA = "public";

  public TrackingScope {
    schemas = schemas == null ? List.of() : List.copyOf(new TreeSet<>(schemas));
    tables = tables == null ? List.of() : List.copyOf(new TreeSet<>(tables));
    excludeTables = excludeTables == null ? List.of() : List.copyOf(new TreeSet<>(excludeTables));
    for (String schema : schemas) {
      if (schema == null || schema.isEmpty()) {
        throw new IllegalArgumentException("schema names cannot be empty");
      }
    }
  }

  public static TrackingScope everyTable() {
    return new TrackingScope(List.of(), List.of(), List.of(), true);
  }

  public static TrackingScope schemas(String... schemas) {
    return new TrackingScope(List.of(schemas), List.of(), List.of(), false);
  }

  public static TrackingScope tables(QualifiedName... tables) {
    return new TrackingScope(List.of(), List.of(tables), List.of(), false);
  }

  /** The schemas whose tables are tracked as a whole (public by default). */
  public List<String> effectiveSchemas() {
    if (allTables) {
      return List.of();
    }
    return schemas.isEmpty() && tables.isEmpty() ? List.of(DEFAULT_SCHEMA) : schemas;
  }

  /** True when tables created later can belong to the scope (all tables, or whole schemas). */
  public boolean coversNewTables() {
    return allTables || !effectiveSchemas().isEmpty();
  }

  public boolean includes(QualifiedName table) {
    if (excludeTables.contains(table)) {
      return false;
    }
    return allTables || effectiveSchemas().contains(table.schema()) || tables.contains(table);
  }

  public Set<String> schemasReferenced() {
    Set<String> all = new TreeSet<>(effectiveSchemas());
    tables.forEach(t -> all.add(t.schema()));
    return all;
  }

  /** The union of several scopes: what a source tracks when several policies point at it. */
  public TrackingScope union(TrackingScope other) {
    if (allTables || other.allTables) {
      TreeSet<QualifiedName> excluded = new TreeSet<>(allTables ? excludeTables : List.of());
      if (allTables && other.allTables) {
        excluded.retainAll(other.excludeTables);
      }
      return new TrackingScope(List.of(), List.of(), List.copyOf(excluded), true);
    }
    TreeSet<String> s = new TreeSet<>(effectiveSchemas());
    s.addAll(other.effectiveSchemas());
    TreeSet<QualifiedName> t = new TreeSet<>(tables);
    t.addAll(other.tables);
    // A table stays excluded only if no scope asks for it.
    TreeSet<QualifiedName> excluded = new TreeSet<>();
    for (QualifiedName x : excludeTables) {
      if (!other.includes(x)) {
        excluded.add(x);
      }
    }
    for (QualifiedName x : other.excludeTables) {
      if (!includes(x)) {
        excluded.add(x);
      }
    }
    return new TrackingScope(List.copyOf(s), List.copyOf(t), List.copyOf(excluded), false);
  }
}
