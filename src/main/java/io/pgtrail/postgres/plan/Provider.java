package io.pgtrail.postgres.plan;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Where the source database is hosted. It decides how replication rights are granted and what a
 * fix-it message tells the user to do (the steps of the Bemi source-database guide).
 */
public enum Provider {
  SELF_MANAGED("selfManaged", "self-managed PostgreSQL"),
  AWS_RDS("awsRds", "AWS RDS"),
  GCP_CLOUD_SQL("gcpCloudSql", "GCP Cloud SQL"),
  SUPABASE("supabase", "Supabase"),
  NEON("neon", "Neon"),
  RENDER("render", "Render"),
  DIGITAL_OCEAN("digitalOcean", "DigitalOcean Managed PostgreSQL"),
  AZURE("azure", "Azure Database for PostgreSQL"),
  TIMESCALE("timescale", "Timescale Cloud");

  private final String id;
  private final String displayName;

  Provider(String id, String displayName) {
    this.id = id;
    this.displayName = displayName;
  }

  public String id() {
    return id;
  }

  public String displayName() {
    return displayName;
  }

  /** Supabase, Render and Timescale Cloud do not let customers create roles with the REPLICATION right. */
  public boolean canCreateReplicationRole() {
    return this != SUPABASE && this != RENDER && this != TIMESCALE;
  }

  public static Provider fromId(String id) {
    for (Provider p : values()) {
      if (p.id.equalsIgnoreCase(id) || p.name().equalsIgnoreCase(id)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown provider '" + id + "' (expected one of "
        + Arrays.stream(values()).map(Provider::id).collect(Collectors.joining(", ")) + ")");
  }

  @Override
  public String toString() {
    return id;
  }
}
