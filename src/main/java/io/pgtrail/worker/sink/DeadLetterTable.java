package io.pgtrail.worker.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrail.worker.Change;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * {@code pgtrail_dead_letter}, next to {@code changes}: a change the destination refused both as it was
 * and in its fallback form, kept with its raw payload, the error and its position, so that nothing is ever
 * dropped without a row saying so. The payload is {@code bytea} (UTF-8 of a JSON object holding before,
 * after and context as the worker encoded them): it accepts what {@code jsonb} and {@code text} refuse.
 */
public final class DeadLetterTable {
  public static final String NAME = "pgtrail_dead_letter";
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private DeadLetterTable() {}

  public static List<String> createStatements() {
    return List.of("CREATE TABLE IF NOT EXISTS " + NAME + " ("
        + " id bigserial PRIMARY KEY,"
        + " slot_name text NOT NULL,"
        + " \"database\" text NOT NULL,"
        + " \"schema\" text NOT NULL,"
        + " \"table\" text NOT NULL,"
        + " operation text NOT NULL,"
        + " primary_key text,"
        + " \"position\" bigint NOT NULL,"
        + " transaction_id bigint NOT NULL,"
        + " committed_at timestamptz NOT NULL,"
        + " payload bytea NOT NULL,"
        + " error_class text NOT NULL,"
        + " sqlstate text,"
        + " error_message text,"
        + " set_aside_at timestamptz NOT NULL DEFAULT now(),"
        + " UNIQUE (slot_name, \"position\", \"table\", \"schema\", \"database\", operation))");
  }

  public static void ensure(Statement s) throws SQLException {
    for (String sql : createStatements()) {
      s.execute(sql);
    }
  }

  /**
   * Sets one change aside in the caller's transaction; a replay of it is absorbed by the unique key.
   * Returns false when it was already there.
   */
  public static boolean setAside(Connection c, String slot, Change change, String sqlState, String errorMessage)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + NAME + " (slot_name, \"database\", \"schema\","
        + " \"table\", operation, primary_key, \"position\", transaction_id, committed_at, payload,"
        + " error_class, sqlstate, error_message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        + " ON CONFLICT DO NOTHING")) {
      ps.setString(1, slot);
      ps.setString(2, FallbackForm.spelled(change.database()));
      ps.setString(3, FallbackForm.spelled(change.schema()));
      ps.setString(4, FallbackForm.spelled(change.table()));
      ps.setString(5, change.operation().name());
      ps.setString(6, change.primaryKey() == null ? null : FallbackForm.spelled(change.primaryKey()));
      ps.setLong(7, change.position());
      ps.setLong(8, change.transactionId());
      ps.setTimestamp(9, ProgressTable.timestamp(change.committedAtMicros()));
      ps.setBytes(10, payload(change));
      ps.setString(11, FailureClass.ROW_REJECTED.label());
      ps.setString(12, sqlState);
      ps.setString(13, errorMessage == null ? null : FallbackForm.spelled(errorMessage));
      return ps.executeUpdate() == 1;
    }
  }

  /** The change as the worker encoded it; the JSON columns as strings, since they may not be valid jsonb. */
  static byte[] payload(Change change) {
    ObjectNode node = MAPPER.createObjectNode();
    node.put("before", change.before());
    node.put("after", change.after());
    node.put("context", change.context());
    node.put("queued_at_micros", change.queuedAtMicros());
    return node.toString().getBytes(StandardCharsets.UTF_8);
  }
}
