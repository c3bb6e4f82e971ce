package io.pgtrail.worker.sink;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The destination {@code changes} table, shaped like Bemi's so its ORM query packages work unchanged:
 * same column names and types, same indexes, and the unique key that absorbs replays.
 * {@code primary_key} is {@code text} (Bemi: varchar(255)) so long composite keys never fail a write.
 */
public final class ChangesTable {
  public static final String NAME = "changes";

  /** The columns the worker writes; id and created_at come from their defaults. */
  public static final List<String> WRITTEN_COLUMNS = List.of("database", "schema", "table", "primary_key",
      "operation", "before", "after", "context", "committed_at", "queued_at", "transaction_id", "position");

  public static final String UNIQUE_KEY = "\"position\", \"table\", \"schema\", \"database\", \"operation\"";

  private ChangesTable() {}

  /** The statements that create the table and its indexes; each is idempotent. */
  public static List<String> createStatements() {
    return List.of(
        "CREATE TABLE IF NOT EXISTS changes ("
            + " id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
            + " \"database\" varchar(255) NOT NULL,"
            + " \"schema\" varchar(255) NOT NULL,"
            + " \"table\" varchar(255) NOT NULL,"
            + " primary_key text,"
            + " operation text NOT NULL CHECK (operation IN ('CREATE', 'UPDATE', 'DELETE', 'TRUNCATE', 'MESSAGE')),"
            + " \"before\" jsonb NOT NULL DEFAULT '{}',"
            + " \"after\" jsonb NOT NULL DEFAULT '{}',"
            + " context jsonb NOT NULL DEFAULT '{}',"
            + " committed_at timestamptz NOT NULL,"
            + " queued_at timestamptz NOT NULL,"
            + " created_at timestamptz NOT NULL DEFAULT now(),"
            + " transaction_id bigint NOT NULL,"
            + " \"position\" bigint NOT NULL,"
            + " CONSTRAINT changes_position_table_schema_database_operation_unique UNIQUE (" + UNIQUE_KEY + "))",
        "CREATE INDEX IF NOT EXISTS changes_committed_at_index ON changes (committed_at)",
        "CREATE INDEX IF NOT EXISTS changes_table_index ON changes (\"table\")",
        "CREATE INDEX IF NOT EXISTS changes_primary_key_index ON changes (primary_key)",
        "CREATE INDEX IF NOT EXISTS changes_operation_index ON changes (operation)",
        "CREATE INDEX IF NOT EXISTS changes_before_index ON changes USING gin (\"before\" jsonb_path_ops)",
        "CREATE INDEX IF NOT EXISTS changes_after_index ON changes USING gin (\"after\" jsonb_path_ops)",
        "CREATE INDEX IF NOT EXISTS changes_context_index ON changes USING gin (context jsonb_path_ops)");
  }

  /** Creates the table if absent (in its own transaction). */
  public static void ensure(Connection destination) throws SQLException {
    boolean autoCommit = destination.getAutoCommit();
    destination.setAutoCommit(false);
    try (Statement s = destination.createStatement()) {
      // one creator at a time: two workers starting together must not race on CREATE TABLE
      s.execute("SELECT pg_advisory_xact_lock(hashtext('pgtrail.changes'))");
      for (String sql : createStatements()) {
        s.execute(sql);
      }
      destination.commit();
    } catch (SQLException e) {
      destination.rollback();
      throw e;
    } finally {
      destination.setAutoCommit(autoCommit);
    }
  }

  public static String columnList() {
    StringBuilder sb = new StringBuilder();
    for (String column : WRITTEN_COLUMNS) {
      sb.append(sb.length() == 0 ? "" : ", ").append('"').append(column).append('"');
    }
    return sb.toString();
  }
}
