package io.pgtrail.worker.sink;

import io.pgtrail.postgres.connect.PgConnectException;
import java.io.IOException;
import java.sql.SQLException;

/**
 * What kind of failure a destination (or source) error is, from its SQLSTATE. Transient failures are
 * retried with backoff and never set a change aside; a row-caused one is isolated to the change(s) that
 * cause it; anything else (a missing table, a lost privilege) is retried like a transient failure but
 * reported as a stall that needs a human.
 */
public enum FailureClass {
  /** 08xxx, 57P0x, an I/O error: the connection is gone. */
  CONNECTION_LOST(true, false),
  /** 57014: statement_timeout or a cancel. */
  TIMEOUT(true, false),
  /** 55P03 lock not available, 40P01 deadlock, 40001 serialization failure. */
  LOCK_CONFLICT(true, false),
  /** 53xxx disk full, out of memory, too many connections; 58xxx system I/O errors. */
  RESOURCES_EXHAUSTED(true, false),
  /** 22xxx data exceptions, 23xxx integrity violations, 54000 program limits (index row size), P0001 raised by a trigger. */
  ROW_REJECTED(false, true),
  /** Everything else: a table or privilege missing, a misconfiguration; retried, reported as a stall. */
  DESTINATION_MISCONFIGURED(false, false);

  private final boolean transientFailure;
  private final boolean rowCaused;

  FailureClass(boolean transientFailure, boolean rowCaused) {
    this.transientFailure = transientFailure;
    this.rowCaused = rowCaused;
  }

  public boolean isTransient() {
    return transientFailure;
  }

  public boolean isRowCaused() {
    return rowCaused;
  }

  /** CamelCase name for metrics labels, logs and the progress table. */
  public String label() {
    StringBuilder sb = new StringBuilder();
    for (String part : name().split("_")) {
      sb.append(part.charAt(0)).append(part.substring(1).toLowerCase(java.util.Locale.ROOT));
    }
    return sb.toString();
  }

  public static FailureClass of(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof PgConnectException connect) {
        return switch (connect.reason()) {
          case UNREACHABLE, TIMEOUT, TOO_MANY_CONNECTIONS, OTHER -> CONNECTION_LOST;
          default -> DESTINATION_MISCONFIGURED;
        };
      }
    }
    String state = sqlState(failure);
    if (state == null) {
      return hasIoCause(failure) ? CONNECTION_LOST : DESTINATION_MISCONFIGURED;
    }
    if (state.startsWith("08") || state.startsWith("57P")) {
      return CONNECTION_LOST;
    }
    if (state.equals("57014")) {
      return TIMEOUT;
    }
    if (state.equals("55P03") || state.equals("40P01") || state.equals("40001")) {
      return LOCK_CONFLICT;
    }
    if (state.startsWith("53") || state.startsWith("58")) {
      return RESOURCES_EXHAUSTED;
    }
    if (state.startsWith("22") || state.startsWith("23") || state.equals("54000") || state.equals("P0001")) {
      return ROW_REJECTED;
    }
    return DESTINATION_MISCONFIGURED;
  }

  /**
   * A description fit for logs, metrics and the progress table: never a row's values (a data error's
   * message may quote them), never secrets. Server errors give their SQLSTATE, and for row-caused ones only
   * the constraint, table and column they name; other errors their first line.
   */
  public static String describe(Throwable failure) {
    String state = sqlState(failure);
    org.postgresql.util.ServerErrorMessage server = serverMessage(failure);
    if (server != null && state != null && of(failure).isRowCaused()) {
      StringBuilder sb = new StringBuilder("SQLSTATE ").append(state);
      if (server.getConstraint() != null) {
        sb.append(" constraint ").append(server.getConstraint());
      }
      if (server.getTable() != null) {
        sb.append(" table ").append(server.getTable());
      }
      if (server.getColumn() != null) {
        sb.append(" column ").append(server.getColumn());
      }
      if (server.getRoutine() != null) {
        sb.append(" (").append(server.getRoutine()).append(')');
      }
      return sb.toString();
    }
    String message = server != null ? server.getMessage() : failure.getMessage();
    String first = message == null ? "" : message.lines().findFirst().orElse("");
    return (state == null ? failure.getClass().getSimpleName() : "SQLSTATE " + state) + ": " + first;
  }

  private static org.postgresql.util.ServerErrorMessage serverMessage(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null) {
        return p.getServerErrorMessage();
      }
    }
    return null;
  }

  /** The first SQLSTATE along the cause chain (pgjdbc wraps some in others). */
  public static String sqlState(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        return sql.getSQLState();
      }
    }
    return null;
  }

  private static boolean hasIoCause(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof IOException) {
        return true;
      }
    }
    return false;
  }
}
