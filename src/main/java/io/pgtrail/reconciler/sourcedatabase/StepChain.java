package io.pgtrail.reconciler.sourcedatabase;

import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.status.Reason;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs steps in order until one stops the chain or fails; a failure sets the failing step's own
 * condition False ({@code SetupFailed} for SQL errors, {@code InternalError} for anything else).
 */
record StepChain(List<Step> steps) {
  private static final Logger LOG = LoggerFactory.getLogger(StepChain.class);

  StepChain {
    steps = List.copyOf(steps);
  }

  /** Runs the chain; the step that stopped it (or failed) is left in {@link SourceRun#stoppedBy}. */
  void run(SourceRun run) {
    for (Step step : steps) {
      if (!proceeds(step, run)) {
        run.stoppedBy = step;
        LOG.debug("{} {}/{}: the chain stopped at step {} ({})", SourceDatabase.class.getSimpleName(),
            run.namespace(), run.name(), step.name(), step.condition());
        return;
      }
    }
  }

  private static boolean proceeds(Step step, SourceRun run) {
    try {
      return step.action().apply(run) == Step.Outcome.CONTINUE;
    } catch (SQLException e) {
      LOG.warn("{} {}/{}: step {} failed: {} (SQLSTATE {})", SourceDatabase.class.getSimpleName(), run.namespace(),
          run.name(), step.name(), e.getMessage(), e.getSQLState());
      run.conditions.setFalse(step.condition(), Reason.SETUP_FAILED.camelCase(), "step " + step.name() + " failed: "
          + firstLine(e.getMessage()) + (e.getSQLState() == null ? "" : " (SQLSTATE " + e.getSQLState() + ")"));
    } catch (RuntimeException e) {
      LOG.error("{} {}/{}: step {} failed unexpectedly", SourceDatabase.class.getSimpleName(), run.namespace(),
          run.name(), step.name(), e);
      run.conditions.setFalse(step.condition(), Reason.INTERNAL_ERROR.camelCase(), "step " + step.name()
          + " failed: " + e.getClass().getSimpleName() + ": " + firstLine(String.valueOf(e.getMessage())));
    }
    return false;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "";
    }
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
