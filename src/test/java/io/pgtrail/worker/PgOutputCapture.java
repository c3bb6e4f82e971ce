package io.pgtrail.worker;

import static org.awaitility.Awaitility.await;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.worker.pgoutput.PgOutputDecoder;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Captures real pgoutput bytes from a server through the SQL slot functions (no streaming needed). */
public final class PgOutputCapture {
  public record Captured(long lsn, byte[] bytes) {
    public PgOutputMessage decode() {
      return PgOutputDecoder.decode(ByteBuffer.wrap(bytes));
    }
  }

  private PgOutputCapture() {}

  /** Creates the slot (the publication must exist already). */
  public static void createSlot(ConnectionSettings db, String slot) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      ReplicationSlots.ensureLogicalSlot(c, slot);
    }
  }

  /** Everything the slot would stream now, consuming it. */
  public static List<Captured> take(ConnectionSettings db, String slot, String publication) throws Exception {
    return take(db, slot, publication, "SELECT 1");
  }

  /** Decoded in a session prepared by {@code sessionSql} (output settings such as the worker's). */
  public static List<Captured> take(ConnectionSettings db, String slot, String publication, String sessionSql)
      throws Exception {
    try (Connection c = PgConnections.open(db)) {
      try (var s = c.createStatement()) {
        s.execute(sessionSql);
      }
      int major = c.getMetaData().getDatabaseMajorVersion();
      awaitWalFlushed(c);
      String sql = "SELECT lsn::text, data FROM pg_logical_slot_get_binary_changes(?, NULL, NULL,"
          + " 'proto_version', ?, 'publication_names', ?, 'messages', 'true')";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, slot);
        ps.setString(2, Integer.toString(PgOutputDecoder.protocolVersionFor(major)));
        ps.setString(3, publication);
        List<Captured> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Captured(org.postgresql.replication.LogSequenceNumber.valueOf(rs.getString(1)).asLong(),
                rs.getBytes(2)));
          }
        }
        return out;
      }
    }
  }

  /** Slot functions read flushed WAL only; the servers run with synchronous_commit=off. */
  private static void awaitWalFlushed(Connection c) throws Exception {
    try (var s = c.createStatement()) {
      await("WAL flushed up to what was inserted").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
          .until(() -> {
            try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn()")) {
              return rs.next() && rs.getBoolean(1);
            }
          });
    }
  }

  public static List<PgOutputMessage> decodeAll(List<Captured> captured) {
    return captured.stream().map(Captured::decode).toList();
  }
}
