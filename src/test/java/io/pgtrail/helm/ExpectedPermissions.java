package io.pgtrail.helm;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the operator may do, written out independently of the chart: its custom resources (read,
 * watch, finalizer), their status and finalizers subresources, the Secrets, ConfigMaps and
 * Deployments it reads and owns, Events in both API groups; and Leases for leader election, in the
 * release namespace only (JOSDK checks get, create and update before it starts; Fabric8's LeaseLock
 * renews by patch).
 */
final class ExpectedPermissions {

  private static final List<String> READ_WRITE = List.of("get", "list", "watch", "create", "update", "delete");

  static final Set<String> WATCHED_NAMESPACES = union(
      grant("pgtrail.io", List.of("sourcedatabases", "trackingpolicies"), List.of("get", "list", "watch", "patch", "update")),
      grant("pgtrail.io", List.of("sourcedatabases/status", "trackingpolicies/status"), List.of("get", "patch", "update")),
      grant("pgtrail.io", List.of("sourcedatabases/finalizers", "trackingpolicies/finalizers"), List.of("update")),
      grant("core", List.of("secrets", "configmaps"), READ_WRITE),
      grant("apps", List.of("deployments"), READ_WRITE),
      grant("core", List.of("events"), List.of("create")),
      grant("events.k8s.io", List.of("events"), List.of("create")));

  static final Set<String> LEADER_ELECTION =
      grant("coordination.k8s.io", List.of("leases"), List.of("get", "create", "update", "patch"));

  private ExpectedPermissions() {}

  private static Set<String> grant(String group, List<String> resources, List<String> verbs) {
    Set<String> permissions = new TreeSet<>();
    for (String resource : resources) {
      for (String verb : verbs) {
        permissions.add(group + " " + resource + " " + verb);
      }
    }
    return permissions;
  }

  @SafeVarargs
  private static Set<String> union(Set<String>... parts) {
    Set<String> all = new TreeSet<>();
    for (Set<String> part : parts) {
      all.addAll(part);
    }
    return all;
  }
}
