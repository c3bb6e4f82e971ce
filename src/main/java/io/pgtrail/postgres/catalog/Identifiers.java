package io.pgtrail.postgres.catalog;

import java.sql.SQLException;
import java.util.regex.Pattern;
import org.postgresql.core.Utils;

/** Quoting of identifiers and literals with pgjdbc's own escaping, and the name rules pgtrail enforces. */
public final class Identifiers {
  /** Slot and publication names: pgjdbc does not quote slot names, so they are restricted. */
  public static final Pattern REPLICATION_NAME = Pattern.compile("[a-z0-9_]{1,63}");
  public static final int MAX_IDENTIFIER_BYTES = 63;

  private Identifiers() {}

  /** {@code "name"} with embedded quotes doubled; safe for any identifier. */
  public static String quote(String identifier) {
    if (identifier == null || identifier.isEmpty()) {
      throw new IllegalArgumentException("an identifier cannot be empty");
    }
    if (identifier.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("an identifier cannot contain a NUL character");
    }
    try {
      return Utils.escapeIdentifier(new StringBuilder(), identifier).toString();
    } catch (SQLException e) {
      throw new IllegalArgumentException("identifier cannot be quoted: " + e.getMessage(), e);
    }
  }

  /**
   * {@code 'value'} for SQL that is printed for a person to run (scripts). Code that executes SQL binds
   * values instead.
   */
  public static String literal(String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a literal cannot contain a NUL character");
    }
    try {
      return "'" + Utils.escapeLiteral(new StringBuilder(), value, true) + "'";
    } catch (SQLException e) {
      throw new IllegalArgumentException("literal cannot be quoted: " + e.getMessage(), e);
    }
  }

  /** Throws with a fix-it message unless {@code name} matches {@code [a-z0-9_]{1,63}}. */
  public static String requireReplicationName(String what, String name) {
    if (name == null || !REPLICATION_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " name " + (name == null ? "(missing)" : "'" + printable(name) + "'")
          + " is invalid: use 1 to 63 characters of a-z, 0-9 and _");
    }
    return name;
  }

  /** A name made safe for messages: control characters shown as '?', long names cut. */
  public static String printable(String name) {
    StringBuilder sb = new StringBuilder();
    name.codePoints().limit(80).forEach(cp -> sb.appendCodePoint(Character.isISOControl(cp) ? '?' : cp));
    return name.codePointCount(0, name.length()) > 80 ? sb + "..." : sb.toString();
  }
}
