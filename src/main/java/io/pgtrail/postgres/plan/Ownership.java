package io.pgtrail.postgres.plan;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** Reads who owns a publication (and the slot recorded with it). */
public final class Ownership {
  private Ownership() {}

  public static Optional<OwnerMarker> publicationMarker(Connection c, String publication) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT obj_description(oid, 'pg_publication') FROM pg_publication WHERE pubname = ?")) {
      ps.setString(1, publication);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? OwnerMarker.parse(rs.getString(1)) : Optional.empty();
      }
    }
  }
}
