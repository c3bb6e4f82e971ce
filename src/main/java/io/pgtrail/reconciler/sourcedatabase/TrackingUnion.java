package io.pgtrail.reconciler.sourcedatabase;

import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.reconciler.trackingpolicy.PolicyScope;
import java.util.List;
import java.util.TreeSet;

/**
 * What a source tracks: the union of the scopes of all TrackingPolicies that point at it. A table that
 * one policy excludes stays tracked when another policy covers it.
 */
public record TrackingUnion(TrackingScope scope, boolean trackNewTables, boolean contextTriggers,
    List<String> ignoreColumns, List<PolicyScope> policies) {

  public static TrackingUnion of(List<PolicyScope> policies) {
    TreeSet<String> schemas = new TreeSet<>();
    TreeSet<QualifiedName> tables = new TreeSet<>();
    TreeSet<QualifiedName> excludes = new TreeSet<>();
    TreeSet<String> ignore = new TreeSet<>();
    boolean all = false;
    boolean newTables = false;
    boolean context = false;
    for (PolicyScope p : policies) {
      all |= p.allTables();
      schemas.addAll(p.allTables() ? List.of() : p.schemas());
      tables.addAll(p.tables());
      ignore.addAll(p.ignoreColumns());
      newTables |= p.trackNewTables();
      context |= p.captureContext();
    }
    for (PolicyScope p : policies) {
      for (QualifiedName excluded : p.excludeTables()) {
        boolean coveredElsewhere = policies.stream().anyMatch(other -> other != p && other.covers(excluded));
        if (!coveredElsewhere && !tables.contains(excluded)) {
          excludes.add(excluded);
        }
      }
    }
    TrackingScope scope = new TrackingScope(List.copyOf(schemas), List.copyOf(tables), List.copyOf(excludes), all);
    return new TrackingUnion(scope, newTables, context, List.copyOf(ignore), List.copyOf(policies));
  }
}
