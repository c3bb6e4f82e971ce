package io.pgtrail.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one executor of built SQL: runs statements, logs them, and remembers what it ran. */
final class StatementRunner {
  private static final Logger LOG = LoggerFactory.getLogger(StatementRunner.class);

  private final Connection connection;
  private final List<String> executed = new ArrayList<>();

  StatementRunner(Connection connection) {
    this.connection = connection;
  }

  void run(String sql) throws SQLException {
    LOG.debug("executing: {}", firstLine(sql));
    try (Statement s = connection.createStatement()) {
      s.execute(sql);
    }
    executed.add(sql);
  }

  void run(List<String> statements) throws SQLException {
    for (String sql : statements) {
      run(sql);
    }
  }

  void run(SetupSql.Sql sql) throws SQLException {
    LOG.debug("executing: {}", sql.text());
    try (PreparedStatement ps = connection.prepareStatement(sql.text())) {
      for (int i = 0; i < sql.params().size(); i++) {
        ps.setString(i + 1, sql.params().get(i));
      }
      ps.execute();
    }
    executed.add(sql.inline());
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

  interface SqlWork {
    void run() throws SQLException, SetupException;
  }

  private static String firstLine(String sql) {
    int nl = sql.indexOf('\n');
    return nl < 0 ? sql : sql.substring(0, nl) + " ...";
  }
}
