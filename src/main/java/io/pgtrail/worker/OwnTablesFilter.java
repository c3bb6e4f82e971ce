package io.pgtrail.worker;

import io.pgtrail.worker.sink.ChangesTable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;

/**
 * The worker's second guard against recording its own writes (setup already leaves pgtrail's tables out of
 * the publication): when the destination is the source database itself, changes to {@code changes}, its
 * partitions and the {@code pgtrail_*} tables beside it are dropped. Without it, each recorded change would
 * be a new change to record, forever. The two databases are the same when the server's system identifier
 * (or, where that is not readable, the postmaster start time) and the database's oid and name agree.
 */
public final class OwnTablesFilter {
  private static final OwnTablesFilter NONE = new OwnTablesFilter(null, Set.of());

  private final String schema;
  private final Set<String> partitions;

  private OwnTablesFilter(String schema, Set<String> partitions) {
    this.schema = schema;
    this.partitions = partitions;
  }

  public static OwnTablesFilter none() {
    return NONE;
  }

  /** Reads both databases' identity, and where the destination's tables are; leaves no transaction open. */
  public static OwnTablesFilter detect(Connection source, Connection destination) throws SQLException {
    try {
      if (!identity(source).equals(identity(destination))) {
        return NONE;
      }
      String schema;
      Set<String> partitions = new HashSet<>();
      try (Statement s = destination.createStatement();
          ResultSet rs = s.executeQuery("SELECT COALESCE((SELECT n.nspname FROM pg_catalog.pg_class c"
              + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass('changes')),"
              + " current_schema())")) {
        rs.next();
        schema = rs.getString(1);
      }
      try (Statement s = destination.createStatement();
          ResultSet rs = s.executeQuery("SELECT c.relname FROM pg_catalog.pg_partition_tree(to_regclass('changes')) t"
              + " JOIN pg_catalog.pg_class c ON c.oid = t.relid")) {
        while (rs.next()) {
          partitions.add(rs.getString(1));
        }
      }
      return new OwnTablesFilter(schema, Set.copyOf(partitions));
    } finally {
      if (!destination.getAutoCommit()) {
        destination.commit();
      }
    }
  }

  private static String identity(Connection c) throws SQLException {
    String server;
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT system_identifier::text FROM pg_catalog.pg_control_system()")) {
      rs.next();
      server = rs.getString(1);
    } catch (SQLException notReadable) {
      if (!c.getAutoCommit()) {
        c.rollback();
      }
      try (Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT pg_catalog.pg_postmaster_start_time()::text")) {
        rs.next();
        server = rs.getString(1);
      }
    }
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT oid::text || '/' || datname FROM pg_catalog.pg_database"
            + " WHERE datname = current_database()")) {
      rs.next();
      return server + "/" + rs.getString(1);
    }
  }

  /** True when the destination lives in the source database: changes to its own tables are being dropped. */
  public boolean active() {
    return schema != null;
  }

  public boolean isOwn(Change change) {
    return schema != null && schema.equals(change.schema())
        && (ChangesTable.NAME.equals(change.table()) || change.table().startsWith("pgtrail_")
            || partitions.contains(change.table()));
  }
}
