package io.pgtrail.postgres.catalog;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/** A tracking scope matched against the catalog: the tables it selects and the names it could not find. */
public record ScopeResolution(List<Catalog.TableFacts> tables, List<String> missingSchemas, List<QualifiedName> missingTables) {

  public static ScopeResolution resolve(Connection c, TrackingScope scope) throws SQLException {
    List<Catalog.TableFacts> all = Catalog.userTables(c);
    Set<String> schemas = Catalog.schemas(c);
    Map<QualifiedName, Catalog.TableFacts> byName = all.stream()
        .collect(Collectors.toMap(Catalog.TableFacts::name, Function.identity()));
    List<Catalog.TableFacts> selected = all.stream().filter(t -> scope.includes(t.name())).toList();
    List<String> missingSchemas = scope.effectiveSchemas().stream()
        .filter(s -> !schemas.contains(s))
        .filter(s -> !(s.equals(TrackingScope.DEFAULT_SCHEMA) && scope.schemas().isEmpty()))
        .toList();
    List<QualifiedName> missingTables = scope.tables().stream().filter(t -> !byName.containsKey(t)).toList();
    return new ScopeResolution(selected, missingSchemas, missingTables);
  }

  List<QualifiedName> tableNames() {
    return tables.stream().map(Catalog.TableFacts::name).toList();
  }

  public boolean valid() {
    return missingSchemas.isEmpty() && missingTables.isEmpty();
  }
}
