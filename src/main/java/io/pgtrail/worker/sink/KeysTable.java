package io.pgtrail.worker.sink;

import io.pgtrail.worker.KeyDeclaration;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pgtrail_keys}, next to {@code changes}: the primary keys the stream declared (the event trigger's
 * keys messages), per slot, with the commit position of the declaring transaction. Written in the
 * destination transaction of the batch, or of the progress update, that first acknowledges a position at
 * or beyond it, so a declaration is durable exactly when the changes after it are acknowledged; a replay
 * is absorbed by the primary key. A new worker process reads back, for each relation, the latest
 * declaration at or before the position its stream resumes from (docs/changes-table.md).
 */
public final class KeysTable {
  public static final String NAME = "pgtrail_keys";

  private KeysTable() {}

  public static List<String> createStatements() {
    return List.of("CREATE TABLE IF NOT EXISTS " + NAME + " ("
        + " slot_name text NOT NULL,"
        + " relation bigint NOT NULL,"
        + " \"position\" bigint NOT NULL,"
        + " \"schema\" text NOT NULL,"
        + " \"table\" text NOT NULL,"
        + " key_columns text[] NOT NULL,"
        + " recorded_at timestamptz NOT NULL DEFAULT now(),"
        + " PRIMARY KEY (slot_name, relation, \"position\"))");
  }

  public static void ensure(Statement s) throws SQLException {
    for (String sql : createStatements()) {
      s.execute(sql);
    }
  }

  /** Inserts the declarations in the caller's transaction; those already there (a replay) are skipped. */
  public static void record(Connection c, String slot, List<KeyDeclaration> declarations) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + NAME + " (slot_name, relation, \"position\","
        + " \"schema\", \"table\", key_columns) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
      for (KeyDeclaration d : declarations) {
        ps.setString(1, slot);
        ps.setLong(2, Integer.toUnsignedLong(d.relationOid()));
        ps.setLong(3, d.commitLsn());
        ps.setString(4, d.schema());
        ps.setString(5, d.table());
        ps.setArray(6, c.createArrayOf("text", d.columns().toArray()));
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** For each relation, the slot's latest declaration committed at or before {@code position}. */
  public static List<KeyDeclaration> latestUpTo(Connection c, String slot, long position) throws SQLException {
    List<KeyDeclaration> latest = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT DISTINCT ON (relation) relation, \"position\","
        + " \"schema\", \"table\", key_columns FROM " + NAME + " WHERE slot_name = ? AND \"position\" <= ?"
        + " ORDER BY relation, \"position\" DESC")) {
      ps.setString(1, slot);
      ps.setLong(2, position);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          latest.add(new KeyDeclaration((int) rs.getLong(1), rs.getString(3), rs.getString(4), names(rs.getArray(5)),
              rs.getLong(2)));
        }
      }
    }
    return latest;
  }

  private static List<String> names(Array array) throws SQLException {
    return List.of((String[]) array.getArray());
  }
}
