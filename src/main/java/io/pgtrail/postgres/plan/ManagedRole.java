package io.pgtrail.postgres.plan;

/** A least-privilege replication role that pgtrail creates and whose password it generated. */
public record ManagedRole(String name, String password) {
  public ManagedRole {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("managed role name is missing");
    }
    if (password == null || password.length() < 16) {
      throw new IllegalArgumentException("managed role password must have at least 16 characters");
    }
  }

  @Override
  public String toString() {
    return "ManagedRole[name=" + name + ", password=<redacted>]";
  }
}
