package io.pgtrail.postgres.preflight;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.plan.Provider;

/** Fix-it texts per hosting provider, taken from the source-database guide. */
final class ProviderGuide {
  private ProviderGuide() {}

  static String walLevel(Provider provider) {
    return switch (provider) {
      case SELF_MANAGED -> "Run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL "
          + "(it only slightly increases WAL volume).";
      case AWS_RDS -> "In a DB parameter group for your engine version set rds.logical_replication = 1, "
          + "apply the group to the instance and reboot it (Multi-AZ clusters: reboot the writer).";
      case GCP_CLOUD_SQL -> "Set the database flag cloudsql.logical_decoding = on and restart the instance; "
          + "SHOW wal_level; then returns logical.";
      case SUPABASE -> "Supabase runs with wal_level = logical; make sure you connect to the database host "
          + "directly (connection pooling off), not to the pooler.";
      case NEON -> "Enable logical replication in the Neon project settings (Settings > Logical Replication).";
      case RENDER -> "Open a Render support request \"Configure database for logical replication\": "
          + "set wal_level to logical, add the REPLICATION permission to the database user.";
      case DIGITAL_OCEAN -> "DigitalOcean managed PostgreSQL clusters run with wal_level = logical; if SHOW wal_level; "
          + "says otherwise, open a DigitalOcean support ticket asking for logical replication on the cluster.";
      case AZURE -> "Flexible server: in the Azure portal open Server parameters, set wal_level to logical, save and "
          + "restart the server (az postgres flexible-server parameter set --name wal_level --value logical). "
          + "Single server (retired): set azure.replication_support to LOGICAL and restart.";
      case TIMESCALE -> "Timescale Cloud services need logical replication turned on by Timescale: open a support "
          + "request asking for wal_level = logical on the service. Self-hosted TimescaleDB: run ALTER SYSTEM SET "
          + "wal_level = logical; and restart.";
    };
  }

  static String replicationRight(Provider provider, String user) {
    String role = Identifiers.quote(user);
    return switch (provider) {
      case SELF_MANAGED, NEON -> "Run ALTER ROLE " + role + " WITH REPLICATION; as a superuser, or use "
          + "credentials.mode managedRole to let pgtrail create a replication role.";
      case AWS_RDS -> "Run GRANT rds_replication TO " + role + "; as the master user.";
      case GCP_CLOUD_SQL -> "Run ALTER USER " + role + " WITH REPLICATION; as a cloudsqlsuperuser.";
      case SUPABASE -> "Supabase cannot grant REPLICATION to new roles: connect as the postgres user "
          + "with the direct (non-pooled) connection details.";
      case RENDER -> "Render cannot grant REPLICATION to new roles: open a support request asking to "
          + "add the REPLICATION permission to " + role + ".";
      case DIGITAL_OCEAN -> "Connect as doadmin, which has REPLICATION, or as doadmin run ALTER ROLE " + role
          + " WITH REPLICATION; (or use credentials.mode managedRole with doadmin's credentials).";
      case AZURE -> "As the server admin (a member of azure_pg_admin) run ALTER ROLE " + role + " WITH REPLICATION; "
          + "(or use credentials.mode managedRole with the admin's credentials).";
      case TIMESCALE -> "Timescale Cloud does not let customers grant REPLICATION: connect as tsdbadmin, or open a "
          + "support request asking to add REPLICATION to " + role + ".";
    };
  }

  static String pooler(Provider provider) {
    return switch (provider) {
      case SUPABASE -> "Replication needs a direct connection: in the Supabase project settings untoggle "
          + "\"Use connection pooling\" and use the db.<project>.supabase.co host on port 5432.";
      case NEON -> "Replication needs a direct connection: use the Neon host name without \"-pooler\" "
          + "(turn off \"Pooled connection\" on the dashboard).";
      case RENDER -> "Use the full host name ending in .render.com from the External Database URL.";
      case DIGITAL_OCEAN -> "Replication needs a direct connection: use the cluster's own connection details "
          + "(port 25060), not a connection pool (port 25061).";
      case AZURE -> "Replication needs a direct connection: use port 5432 of the server, not the built-in "
          + "PgBouncer on port 6432.";
      case TIMESCALE -> "Replication needs a direct connection: use the service URL, not the connection pooler URL "
          + "(transaction pooling cannot carry a replication stream).";
      default -> "Replication needs a direct connection to PostgreSQL: point the host and port at the "
          + "server itself, not at PgBouncer or another pooler.";
    };
  }

  static String eventTrigger(Provider provider) {
    return switch (provider) {
      case AWS_RDS -> "Event triggers need the rds_superuser role: run GRANT rds_superuser TO <user>; or turn "
          + "off trackNewTables.";
      case GCP_CLOUD_SQL -> "Event triggers need the cloudsqlsuperuser role, or turn off trackNewTables.";
      case SELF_MANAGED -> "Event triggers need a superuser: run the setup as one, or turn off trackNewTables "
          + "(new tables are then added on the next reconcile, without REPLICA IDENTITY FULL until then).";
      default -> "Event triggers need superuser-like rights this platform may not give: turn off "
          + "trackNewTables and add new tables to the tracking policy explicitly.";
    };
  }

  static String tableOwnership(Provider provider) {
    return "REPLICA IDENTITY FULL and adding a table to a publication need the table's owner (or a member of the "
        + "owner role): connect as the owner, run GRANT <owner> TO <user>; or give the table a primary key or "
        + "REPLICA IDENTITY FULL yourself. Tables left out are never published in a way that breaks their writes.";
  }

  static String idleSlotTimeout(Provider provider, String timeout) {
    String how = switch (provider) {
      case AWS_RDS -> "set idle_replication_slot_timeout = 0 in the DB parameter group";
      case GCP_CLOUD_SQL -> "set the database flag idle_replication_slot_timeout = 0";
      case SELF_MANAGED -> "run ALTER SYSTEM SET idle_replication_slot_timeout = 0; SELECT pg_reload_conf();";
      default -> "ask the platform to set idle_replication_slot_timeout = 0";
    };
    return "PostgreSQL invalidates a slot nobody has read for " + timeout + ": if the worker is down that long, the "
        + "slot is lost and pgtrail records a gap and stops. To keep the slot, " + how + ", or keep the value above "
        + "your longest planned worker outage and alert on WorkerAvailable; max_slot_wal_keep_size bounds the disk "
        + "instead.";
  }
}
