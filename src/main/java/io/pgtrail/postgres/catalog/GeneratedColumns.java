package io.pgtrail.postgres.catalog;

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
}
