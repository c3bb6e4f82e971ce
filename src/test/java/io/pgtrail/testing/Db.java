package io.pgtrail.testing;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Small JDBC helpers for tests: run statements, read rows, read one value. */
public final class Db {
  private Db() {}

  public static Connection connect(ConnectionSettings settings) {
    try {
      return PgConnections.open(settings);
    } catch (PgConnectException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public static void execute(ConnectionSettings settings, String... statements) {
    try (Connection c = connect(settings); Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  public static List<List<Object>> rows(ConnectionSettings settings, String sql, Object... params) {
    try (Connection c = connect(settings); PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      List<List<Object>> rows = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        int n = rs.getMetaData().getColumnCount();
        while (rs.next()) {
          List<Object> row = new ArrayList<>();
          for (int i = 1; i <= n; i++) {
            row.add(rs.getObject(i));
          }
          rows.add(row);
        }
      }
      return rows;
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** The first column of every row, as strings. */
  public static List<String> column(ConnectionSettings settings, String sql, Object... params) {
    return rows(settings, sql, params).stream().map(r -> r.get(0) == null ? null : r.get(0).toString()).toList();
  }

  public static Object scalar(ConnectionSettings settings, String sql, Object... params) {
    List<List<Object>> rows = rows(settings, sql, params);
    return rows.isEmpty() ? null : rows.get(0).get(0);
  }
}
