package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;
import java.util.TreeSet;

/**
 * PostgreSQL 18 and generated columns. 18 rejects every UPDATE and DELETE on a published table whose replica
 * identity holds a generated column the publication does not publish ("Replica identity must not contain
 * unpublished generated columns"), and REPLICA IDENTITY FULL holds them all. So on 18 the publication
 * publishes stored generated columns ({@code publish_generated_columns = stored}), and tables with virtual
 * generated columns (which no publication can publish) keep their own replica identity instead of FULL.
 */
public final class GeneratedColumns {
  /** The first major with publish_generated_columns and virtual generated columns. */
  public static final int FIRST_MAJOR = 18;

  /**
   * A predicate on the pg_class row {@code relAlias} that leaves out tables with virtual generated columns, for
   * every SQL that sets REPLICA IDENTITY FULL: true for every table before PostgreSQL 18 (attgenerated is never
   * 'v' there), so it needs no version check.
   */
  public static String withoutVirtualColumns(String relAlias) {
    return "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute va WHERE va.attrelid = " + relAlias + ".oid"
        + " AND va.attgenerated = 'v' AND NOT va.attisdropped)";
  }

  private GeneratedColumns() {}

  /** Tables with at least one virtual generated column (PostgreSQL 18+; none before). */
  public static Set<QualifiedName> tablesWithVirtualColumns(Connection c) throws SQLException {
    Set<QualifiedName> tables = new TreeSet<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT DISTINCT n.nspname, c.relname FROM pg_attribute a"
            + " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE a.attgenerated = 'v' AND NOT a.attisdropped")) {
      while (rs.next()) {
        tables.add(new QualifiedName(rs.getString(1), rs.getString(2)));
      }
    }
    return tables;
  }

  /**
   * The plan's step on PostgreSQL 18: REPLICA IDENTITY FULL that pgtrail set (the marker lists it) goes back to
   * DEFAULT on tables that now have a virtual generated column and a primary key, so they stay tracked (key-only
   * before images) instead of being left out. Guarded like the plan's other steps.
   */
  static String keepFullOffVirtualColumnsStep(String publication) {
    return "DO $do$\nDECLARE\n  t record;\n  stmt text;\n  marker jsonb;\nBEGIN\n"
        + "  IF current_setting('server_version_num')::int < " + FIRST_MAJOR * 10000 + " THEN\n    RETURN;\n  END IF;\n"
        + "  PERFORM pg_catalog.set_config('lock_timeout', '" + SetupPlan.SETUP_LOCK_TIMEOUT + "', true);\n"
        + SetupPlan.readMarker(publication)
        + "  FOR t IN SELECT n.nspname, c.relname FROM pg_catalog.pg_class c\n"
        + "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "    WHERE c.relreplident = 'f' AND NOT " + withoutVirtualColumns("c") + "\n"
        + "      AND EXISTS (SELECT 1 FROM pg_catalog.pg_index pk WHERE pk.indrelid = c.oid AND pk.indisprimary)\n"
        + "      AND COALESCE(marker -> 'replicaIdentityFull', '[]') @> jsonb_build_array(jsonb_build_array(n.nspname,"
        + " c.relname))\n"
        + "  LOOP\n"
        + "    BEGIN\n"
        + "      stmt := format('ALTER TABLE %I.%I REPLICA IDENTITY DEFAULT', t.nspname, t.relname);\n"
        + "      EXECUTE stmt;\n"
        + "      RAISE NOTICE '" + SetupPlan.DID + "%', stmt;\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: cannot set REPLICA IDENTITY DEFAULT on %.%: %', quote_ident(t.nspname),"
        + " quote_ident(t.relname), SQLERRM\n"
        + "        USING HINT = 'PostgreSQL 18 rejects UPDATE and DELETE on a published table whose REPLICA IDENTITY FULL"
        + " holds a virtual generated column; the table stays out of tracking until its identity is DEFAULT.';\n"
        + "    END;\n"
        + "  END LOOP;\nEND\n$do$";
  }
}
