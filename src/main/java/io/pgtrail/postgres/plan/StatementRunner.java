package io.pgtrail.postgres.plan;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.util.PSQLWarning;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one executor of built SQL: runs statements, logs them, and remembers what it ran. */
public final class StatementRunner {
  private static final Logger LOG = LoggerFactory.getLogger(StatementRunner.class);

  private final Connection connection;
  private final List<String> executed = new ArrayList<>();

  StatementRunner(Connection connection) {
    this.connection = connection;
  }

  /** What one plan step reported: its changes and kept items (NOTICEs), its warnings, and rows returned. */
  public record Outcome(List<String> kept, List<String> warnings, int rows) {}

  /**
   * Runs one plan step and reads what it reported: {@code NOTICE pgtrail: did: X} adds X to the executed
   * changes, {@code NOTICE pgtrail: kept: X} to kept, {@code WARNING pgtrail: X} to warnings.
   */
  Outcome runStep(String sql) throws SQLException {
    LOG.debug("executing: {}", firstLine(sql));
    List<String> kept = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    int rows = 0;
    try (Statement s = connection.createStatement()) {
      boolean hasRows = s.execute(sql);
      if (hasRows) {
        try (java.sql.ResultSet rs = s.getResultSet()) {
          while (rs.next()) {
            rows++;
          }
        }
      }
      for (SQLWarning w = s.getWarnings(); w != null; w = w.getNextWarning()) {
        String message = w.getMessage();
        String severity = w instanceof PSQLWarning pw && pw.getServerErrorMessage() != null
            ? pw.getServerErrorMessage().getSeverity() : "";
        if (message == null) {
          continue;
        }
        if (message.startsWith(SetupPlan.DID)) {
          executed.add(message.substring(SetupPlan.DID.length()));
        } else if (message.startsWith(SetupPlan.KEPT)) {
          kept.add(message.substring(SetupPlan.KEPT.length()));
        } else if ("WARNING".equals(severity) && message.startsWith("pgtrail: ")) {
          String hint = ((PSQLWarning) w).getServerErrorMessage().getHint();
          warnings.add(message.substring("pgtrail: ".length()) + (hint == null ? "" : ". " + hint));
        }
      }
    }
    return new Outcome(kept, warnings, rows);
  }

  /** Records an action that ran through another API (e.g. a hashed password change). */
  void record(String description) {
    executed.add(description);
  }

  List<String> executed() {
    return executed;
  }

  /** Runs {@code work} in one transaction: all of it or none of it. */
  void inTransaction(SqlWork work) throws SQLException, SetupException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    int before = executed.size();
    try {
      work.run();
      connection.commit();
    } catch (SQLException | SetupException | RuntimeException e) {
      connection.rollback();
      executed.subList(before, executed.size()).clear();
      throw e;
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  public interface SqlWork {
    void run() throws SQLException, SetupException;
  }

  private static String firstLine(String sql) {
    int nl = sql.indexOf('\n');
    return nl < 0 ? sql : sql.substring(0, nl) + " ...";
  }
}
