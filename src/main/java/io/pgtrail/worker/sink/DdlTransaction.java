package io.pgtrail.worker.sink;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * One transaction of DDL on the destination's {@code changes} (a partition created, dropped, a table swapped):
 * waits at most {@code lockTimeout} for its locks, holds the advisory lock every creator of {@code changes}
 * takes, commits when the work returns, rolls back when it throws, and leaves the connection's auto-commit
 * as it found it.
 */
public final class DdlTransaction {
  /** The work inside the transaction; {@code false} rolls it back (nothing to do after all). */
  @FunctionalInterface
  public interface Work {
    boolean run(Statement s) throws SQLException;
  }

  private DdlTransaction() {}

  /** Returns whether the work was committed. */
  public static boolean run(Connection c, String lockTimeout, Work work) throws SQLException {
    boolean autoCommit = c.getAutoCommit();
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("SET LOCAL lock_timeout = '" + lockTimeout + "'");
      s.execute("SELECT pg_advisory_xact_lock(hashtext('pgtrail.changes'))");
      if (work.run(s)) {
        c.commit();
        return true;
      }
      c.rollback();
      return false;
    } catch (SQLException e) {
      c.rollback();
      throw e;
    } finally {
      c.setAutoCommit(autoCommit);
    }
  }
}
