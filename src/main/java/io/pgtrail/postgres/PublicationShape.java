package io.pgtrail.postgres;

import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * What a publication publishes: every table, whole schemas (PostgreSQL 15+) plus single tables, or a
 * plain list of tables.
 */
public record PublicationShape(boolean allTables, List<String> schemas, List<QualifiedName> tables) {
  public PublicationShape {
    schemas = List.copyOf(new TreeSet<>(schemas));
    tables = List.copyOf(new TreeSet<>(tables));
  }

  /**
   * The simplest shape that publishes exactly the scope: FOR ALL TABLES when nothing is excluded,
   * TABLES IN SCHEMA on 15+ when nothing is excluded, otherwise the resolved table list.
   */
  public static PublicationShape forScope(TrackingScope scope, Collection<QualifiedName> resolvedTables,
      int serverMajor) {
    boolean noExclusions = scope.excludeTables().isEmpty();
    if (scope.allTables() && noExclusions) {
      return new PublicationShape(true, List.of(), List.of());
    }
    if (!scope.allTables() && noExclusions && serverMajor >= 15 && !scope.effectiveSchemas().isEmpty()) {
      List<QualifiedName> extra = scope.tables().stream()
          .filter(t -> !scope.effectiveSchemas().contains(t.schema()))
          .toList();
      return new PublicationShape(false, scope.effectiveSchemas(), extra);
    }
    return new PublicationShape(false, List.of(), List.copyOf(resolvedTables));
  }

  /** Needs superuser rights: FOR ALL TABLES and FOR TABLES IN SCHEMA do. */
  public boolean needsSuperuser() {
    return allTables || !schemas.isEmpty();
  }

  /** The part after FOR (or after SET), e.g. {@code TABLES IN SCHEMA "a", TABLE "s"."t"}; empty for no tables. */
  String objectList() {
    if (allTables) {
      return "ALL TABLES";
    }
    StringBuilder sb = new StringBuilder();
    if (!schemas.isEmpty()) {
      sb.append("TABLES IN SCHEMA ").append(String.join(", ", schemas.stream().map(Identifiers::quote).toList()));
    }
    if (!tables.isEmpty()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append("TABLE ").append(String.join(", ", tables.stream().map(QualifiedName::quoted).toList()));
    }
    return sb.toString();
  }

  /** Whether a publication as the catalog shows it already has this shape. */
  boolean matches(Catalog.PublicationFacts actual) {
    if (allTables || actual.allTables()) {
      return allTables == actual.allTables();
    }
    return new TreeSet<>(schemas).equals(actual.memberSchemas())
        && new TreeSet<>(tables).equals(actual.memberTables());
  }
}
