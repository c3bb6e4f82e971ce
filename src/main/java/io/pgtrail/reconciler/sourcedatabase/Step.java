package io.pgtrail.reconciler.sourcedatabase;

import java.sql.SQLException;

/**
 * One named step of a SourceDatabase reconcile and the condition it owns: when the step throws, that
 * condition reports the failure.
 *
 * @param name the step's name, as logs and failure messages show it
 * @param condition the condition type the step owns
 * @param action what the step does; {@link Outcome#STOP} ends the chain here
 */
record Step(String name, String condition, Action action) {

  enum Outcome { CONTINUE, STOP }

  @FunctionalInterface
  interface Action {
    Outcome apply(SourceRun run) throws SQLException;
  }

  /** A step that may stop the chain: it returns whether the chain goes on. */
  @FunctionalInterface
  interface Gate {
    boolean pass(SourceRun run) throws SQLException;
  }

  /** A step that records what it sees and never stops the chain. */
  @FunctionalInterface
  interface Observation {
    void observe(SourceRun run) throws SQLException;
  }

  static Step gate(String name, String condition, Gate gate) {
    return new Step(name, condition, run -> gate.pass(run) ? Outcome.CONTINUE : Outcome.STOP);
  }

  static Step always(String name, String condition, Observation observation) {
    return new Step(name, condition, run -> {
      observation.observe(run);
      return Outcome.CONTINUE;
    });
  }
}
