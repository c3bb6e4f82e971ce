package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Identifiers;

/**
 * The plan ({@link SetupPlan}) rendered as a commented SQL script a DBA can review and run with psql.
 * The statements are exactly the ones the executors run; every step checks the catalog itself, so
 * running the script twice is safe. psql shows {@code NOTICE pgtrail: did: ...} for each change and
 * {@code WARNING pgtrail: ...} for each table left out, with the fix.
 */
public final class SetupScripts {
  /** The owner id written into the marker of publications created by a printed script. */
  public static final String SCRIPT_OWNER = "pgtrail-sql";

  private SetupScripts() {}

  public static String setup(SetupRequest r, String managedRoleName) {
    StringBuilder out = new StringBuilder();
    out.append("-- pgtrail setup for publication ").append(Identifiers.quote(r.publication()))
        .append(", slot ").append(Identifiers.quote(r.slot())).append(" (provider: ").append(r.provider().id())
        .append(")\n")
        .append("-- Review, then run: psql \"postgresql://USER@HOST:PORT/DB\" -v ON_ERROR_STOP=1 -f setup.sql\n")
        .append("-- Safe to run twice: every step checks the catalog before it acts.\n");
    if (managedRoleName != null && !r.provider().canCreateReplicationRole()) {
      out.append("-- ").append(r.provider().displayName())
          .append(" cannot create roles with REPLICATION: connect with the platform's own user instead.\n");
    }
    render(out, SetupPlan.setup(r, managedRoleName));
    if (managedRoleName != null && r.provider().canCreateReplicationRole()) {
      out.append("\n-- Set the role's password in psql (hashed on your side, never sent in clear):  \\password ")
          .append(Identifiers.quote(managedRoleName)).append("\n");
    }
    return out.toString();
  }

  /** Teardown: undoes only what the publication's pgtrail marker records, and keeps what others rely on. */
  public static String teardown(TeardownRequest r) {
    StringBuilder out = new StringBuilder();
    out.append("-- pgtrail teardown for publication ").append(Identifiers.quote(r.publication()))
        .append(" and slot ").append(Identifiers.quote(r.slot())).append("\n")
        .append("-- Review, then run: psql \"postgresql://USER@HOST:PORT/DB\" -v ON_ERROR_STOP=1 -f teardown.sql\n")
        .append("-- Safe to run twice. It removes only what the publication's pgtrail marker records; NOTICEs say\n")
        .append("-- what it removed (pgtrail: did:) and what it kept and why (pgtrail: kept:).\n");
    render(out, SetupPlan.teardown(r));
    if (!r.dropPublicationAndSlot()) {
      out.append("\n-- The slot ").append(Identifiers.quote(r.slot())).append(" and publication ")
          .append(Identifiers.quote(r.publication()))
          .append(" are kept (use --drop to remove them). A kept slot retains WAL until dropped:\n")
          .append("--   SELECT pg_drop_replication_slot(").append(Identifiers.literal(r.slot())).append(");\n")
          .append("--   ").append(SetupSql.dropPublication(r.publication())).append(";\n");
    }
    return out.toString();
  }

  private static void render(StringBuilder out, java.util.List<SetupPlan.Step> steps) {
    for (SetupPlan.Step step : steps) {
      out.append("\n-- ").append(step.title()).append("\n").append(step.sql()).append(";\n");
    }
  }
}
