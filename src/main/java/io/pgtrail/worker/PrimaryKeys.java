package io.pgtrail.worker;

import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The primary key columns of a relation. Under REPLICA IDENTITY FULL pgoutput flags every column as key,
 * so the real primary key comes from the source catalog; otherwise the flagged identity columns are it.
 */
@FunctionalInterface
public interface PrimaryKeys {

  /** Key column names in key order; empty when the table has none. */
  List<String> columns(PgOutputMessage.Relation relation);

  /** The identity columns pgoutput flags (right for DEFAULT and USING INDEX identities). */
  static List<String> flagged(PgOutputMessage.Relation relation) {
    List<String> keys = new ArrayList<>();
    for (PgOutputMessage.Column column : relation.columns()) {
      if (column.isKey()) {
        keys.add(column.name());
      }
    }
    return keys;
  }

  /** Asks the source's catalog (over an ordinary connection) for full-identity tables. */
  static PrimaryKeys fromCatalog(Connection source) {
    return relation -> {
      if (!relation.fullIdentity()) {
        return flagged(relation);
      }
      String sql = "SELECT a.attname FROM pg_index i"
          + " JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[])"
          + " WHERE i.indrelid = ?::oid AND i.indisprimary"
          + " ORDER BY array_position(i.indkey::int2[], a.attnum)";
      try (PreparedStatement ps = source.prepareStatement(sql)) {
        ps.setLong(1, Integer.toUnsignedLong(relation.oid()));
        List<String> keys = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            keys.add(rs.getString(1));
          }
        }
        return keys;
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the primary key of " + relation.namespace() + "."
            + relation.name() + " from the source catalog: " + e.getMessage(), e);
      }
    };
  }
}
