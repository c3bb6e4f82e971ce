package io.pgtrail.helm;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the operator may do, written out independently of the chart: its custom resources (read, watch;
 * the SourceDatabase finalizer added and removed by patch), their status (written by update) and the
 * SourceDatabase finalizers subresource (blockOwnerDeletion); the Secrets it reads and owns, the
 * ConfigMaps it owns (watched), the Deployments it owns and deletes, core Events; and Leases for leader election,
 * in the release namespace only (JOSDK checks get, create and update before it starts; Fabric8's
 * LeaseLock renews by patch). The real-API-server tier (io.pgtrail.kube.ApiServerOperatorIT) checks
 * this list against the requests the operator makes.
 */
final class ExpectedPermissions {

  static final Set<String> WATCHED_NAMESPACES = union(
      grant("pgtrail.io", List.of("sourcedatabases"), List.of("get", "list", "watch", "patch")),
      grant("pgtrail.io", List.of("trackingpolicies"), List.of("get", "list", "watch")),
      grant("pgtrail.io", List.of("sourcedatabases/status", "trackingpolicies/status"), List.of("update")),
      grant("pgtrail.io", List.of("sourcedatabases/finalizers"), List.of("update")),
      grant("core", List.of("secrets"), List.of("get", "list", "watch", "create", "update")),
      grant("core", List.of("configmaps"), List.of("get", "list", "watch", "create", "update")),
      grant("apps", List.of("deployments"), List.of("get", "list", "watch", "create", "update", "delete")),
      grant("core", List.of("events"), List.of("create")));

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
