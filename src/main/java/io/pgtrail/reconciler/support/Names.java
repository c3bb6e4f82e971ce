package io.pgtrail.reconciler.support;

import java.util.Locale;

/** Derived names that satisfy PostgreSQL replication names ([a-z0-9_]{1,63}) and Kubernetes names. */
public final class Names {
  private static final int MAX_PG = 63;
  private static final int MAX_K8S = 63;

  private Names() {}

  /** {@code pgtrail_<namespace>_<name>}, sanitized; long names are shortened with a hash suffix. */
  public static String replicationName(String namespace, String name) {
    String base = ("pgtrail_" + namespace + "_" + name).toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    if (base.length() <= MAX_PG) {
      return base;
    }
    String suffix = "_" + Hashing.sha256(namespace + "/" + name).substring(0, 8);
    return base.substring(0, MAX_PG - suffix.length()) + suffix;
  }

  /** {@code <name>-<suffix>} within 63 characters, shortened with a hash when needed. */
  public static String child(String name, String suffix) {
    String full = name + "-" + suffix;
    if (full.length() <= MAX_K8S) {
      return full;
    }
    String hash = Hashing.sha256(name).substring(0, 8);
    int keep = MAX_K8S - suffix.length() - hash.length() - 2;
    return name.substring(0, keep).replaceAll("[-.]+$", "") + "-" + hash + "-" + suffix;
  }
}
