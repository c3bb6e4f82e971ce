package io.pgtrail.worker.sink;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;

/**
 * Gap records: rows in {@code changes} that say the trail has a hole (docs/changes-table.md, "Gap
 * records"). {@code operation} MESSAGE, empty schema and table (no real table has an empty name),
 * {@code primary_key} NULL, and {@code context.pgtrail.gap} with the reason and the positions. The same gap
 * found again (a restart while the slot is still missing) is absorbed by the unique key.
 */
public final class GapRecords {
  /** Why the trail has a gap. */
  public enum Reason { SlotMissing, SlotInvalidated, PositionJump, PublicationRecreated, TableNotPublished }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private GapRecords() {}

  /**
   * Writes one gap record in the caller's transaction; {@code position} is its place in the trail (the
   * gap's end when known, else its start). Returns false when the same record was already there.
   */
  public static boolean write(Connection c, String database, Reason reason, long fromLsn, Timestamp fromCommittedAt,
      Long toLsn, long position) throws SQLException {
    Instant now = Instant.now();
    ObjectNode gap = gap(reason, fromLsn, fromCommittedAt == null ? null : fromCommittedAt.toInstant(), toLsn, now);
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + ChangesTable.NAME + " (" + ChangesTable.columnList()
        + ") SELECT ?, '', '', NULL, 'MESSAGE', '{}', '{}', ?::jsonb, ?, ?, 0, ?"
        // the same gap is recorded once; not by the replay key, which on a partitioned changes holds committed_at
        + " WHERE NOT EXISTS (SELECT 1 FROM " + ChangesTable.NAME + " WHERE \"position\" = ? AND \"table\" = ''"
        + " AND \"schema\" = '' AND \"database\" = ? AND operation = 'MESSAGE')")) {
      ps.setString(1, database);
      ps.setString(2, context(gap));
      ps.setTimestamp(3, Timestamp.from(now));
      ps.setTimestamp(4, Timestamp.from(now));
      ps.setLong(5, position);
      ps.setLong(6, position);
      ps.setString(7, database);
      return ps.executeUpdate() == 1;
    }
  }

  /** The {@code gap} object of a gap record's context; callers may add fields of their reason. */
  public static ObjectNode gap(Reason reason, long fromLsn, Instant fromCommittedAt, Long toLsn, Instant detectedAt) {
    ObjectNode gap = MAPPER.createObjectNode();
    gap.put("reason", reason.name());
    gap.put("from_position", fromLsn);
    gap.put("from_committed_at", fromCommittedAt == null ? null : fromCommittedAt.toString());
    if (toLsn == null) {
      gap.putNull("to_position");
    } else {
      gap.put("to_position", toLsn);
    }
    gap.put("detected_at", detectedAt.toString());
    return gap;
  }

  /** A gap record's {@code context}: {@code {"pgtrail": {"gap": ...}}}. */
  public static String context(ObjectNode gap) {
    ObjectNode context = MAPPER.createObjectNode();
    context.putObject("pgtrail").set("gap", gap);
    return context.toString();
  }
}
