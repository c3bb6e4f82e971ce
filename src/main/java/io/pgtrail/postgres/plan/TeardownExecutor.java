package io.pgtrail.postgres.plan;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the teardown plan ({@link SetupPlan#teardown}), the same statements {@code pgtrail sql teardown}
 * prints: it undoes only what the ownership marker proves pgtrail did for that owner, and keeps what
 * something else relies on (Bemi's migration, another pgtrail source), saying what it kept and why.
 */
public final class TeardownExecutor {
  private TeardownExecutor() {}

  public static TeardownResult apply(Connection c, TeardownRequest request) throws SQLException {
    StatementRunner runner = new StatementRunner(c);
    List<String> kept = new ArrayList<>();
    try {
      runner.inTransaction(() -> {
        for (SetupPlan.Step step : SetupPlan.teardown(request)) {
          kept.addAll(runner.runStep(step.sql()).kept());
        }
      });
    } catch (SetupException e) {
      throw new SQLException(e.getMessage(), e);
    }
    return new TeardownResult(runner.executed(), kept);
  }
}
