package io.pgtrail.postgres.catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Read-only catalog queries: what the server, the role and the database look like now. */
public final class Catalog {
  public static final String CONTEXT_FUNCTION = "_bemi_row_trigger_func";
  public static final String CONTEXT_TRIGGER_PREFIX = "_bemi_row_trigger_";

  private Catalog() {}

  public record ServerFacts(String version, int versionNum, String walLevel, int maxReplicationSlots, int slotsUsed,
      int maxWalSenders, int walSendersUsed, String maxSlotWalKeepSize) {
    public int major() {
      return versionNum / 10000;
    }
  }

  public record RoleFacts(String name, boolean superuser, boolean replication, boolean createRole,
      boolean rdsReplication, boolean rdsSuperuser, boolean cloudSqlSuperuser, boolean createOnDatabase) {}

  /**
   * A trackable table; {@code leftOut} and {@code keyOnly} predict what setup by the current role can make
   * of its identity (and of its partitions'): left out of tracking, or tracked with key-only before images.
   */
  public record TableFacts(QualifiedName name, char replicaIdentity, boolean owned, boolean hasPrimaryKey, boolean leftOut,
      boolean keyOnly) {}

  public record PublicationFacts(String name, boolean allTables, boolean owned, String comment,
      Set<QualifiedName> publishedTables, Set<QualifiedName> memberTables, Set<String> memberSchemas) {}

  public static ServerFacts server(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_setting('server_version'),"
            + " current_setting('server_version_num')::int, current_setting('wal_level'),"
            + " current_setting('max_replication_slots')::int,"
            + " (SELECT count(*) FROM pg_replication_slots)::int,"
            + " current_setting('max_wal_senders')::int,"
            + " (SELECT count(*) FROM pg_stat_replication)::int,"
            + " current_setting('max_slot_wal_keep_size', true)")) {
      rs.next();
      return new ServerFacts(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getInt(4), rs.getInt(5),
          rs.getInt(6), rs.getInt(7), rs.getString(8));
    }
  }

  public static RoleFacts role(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT current_user, r.rolsuper, r.rolreplication, r.rolcreaterole,"
            + memberOf("rds_replication") + ", " + memberOf("rds_superuser") + ", "
            + memberOf("cloudsqlsuperuser") + ","
            + " has_database_privilege(current_database(), 'CREATE')"
            + " FROM pg_roles r WHERE r.rolname = current_user")) {
      rs.next();
      return new RoleFacts(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3), rs.getBoolean(4),
          rs.getBoolean(5), rs.getBoolean(6), rs.getBoolean(7), rs.getBoolean(8));
    }
  }

  private static String memberOf(String role) {
    return "COALESCE((SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = '"
        + role + "'), false)";
  }

  public static Set<String> schemas(Connection c) throws SQLException {
    Set<String> names = new TreeSet<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT nspname FROM pg_namespace")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  /**
   * The tables pgtrail may track (ordinary and partitioned top-level tables, not extension members, not
   * pgtrail's own), by the same predicate the plan and the event trigger use.
   */
  public static List<TableFacts> userTables(Connection c) throws SQLException {
    List<TableFacts> tables = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT n.nspname, c.relname, c.relreplident,"
            + " pg_has_role(c.relowner, 'USAGE'),"
            + " EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary),"
            + " " + TrackingSql.willBeLeftOut("c") + ", " + TrackingSql.keyOnlyBeforeImages("c")
            + " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE " + TrackingSql.trackable("c", "n")
            + " ORDER BY 1, 2")) {
      while (rs.next()) {
        tables.add(new TableFacts(new QualifiedName(rs.getString(1), rs.getString(2)),
            rs.getString(3).charAt(0), rs.getBoolean(4), rs.getBoolean(5), rs.getBoolean(6), rs.getBoolean(7)));
      }
    }
    return tables;
  }

  public static Optional<PublicationFacts> publication(Connection c, String name, int serverMajor) throws SQLException {
    long oid;
    boolean allTables;
    boolean owned;
    String comment;
    try (PreparedStatement ps = c.prepareStatement("SELECT oid, puballtables, pg_has_role(pubowner, 'USAGE'),"
        + " obj_description(oid, 'pg_publication') FROM pg_publication WHERE pubname = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        oid = rs.getLong(1);
        allTables = rs.getBoolean(2);
        owned = rs.getBoolean(3);
        comment = rs.getString(4);
      }
    }
    Set<QualifiedName> published = names(c, "SELECT schemaname, tablename FROM pg_publication_tables"
        + " WHERE pubname = ?", name);
    Set<QualifiedName> members = names(c, "SELECT n.nspname, c.relname FROM pg_publication_rel pr"
        + " JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
        + " WHERE pr.prpubid = ?", oid);
    Set<String> schemas = new TreeSet<>();
    if (serverMajor >= 15) {
      try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname FROM pg_publication_namespace pn"
          + " JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = ?")) {
        ps.setLong(1, oid);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            schemas.add(rs.getString(1));
          }
        }
      }
    }
    return Optional.of(new PublicationFacts(name, allTables, owned, comment, published, members, schemas));
  }

  private static Set<QualifiedName> names(Connection c, String sql, Object param) throws SQLException {
    Set<QualifiedName> result = new TreeSet<>();
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, param);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          result.add(new QualifiedName(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return result;
  }
}
