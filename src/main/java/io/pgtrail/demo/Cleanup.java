package io.pgtrail.demo;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What the demo started, stopped in reverse order exactly once, whatever happened before (also from a
 * shutdown hook on Ctrl+C). A failing step is reported and the others still run.
 */
final class Cleanup implements AutoCloseable {
  private final Terminal terminal;
  private final Deque<Step> steps = new ArrayDeque<>();

  private record Step(String what, AutoCloseable action) {}

  Cleanup(Terminal terminal) {
    this.terminal = terminal;
  }

  synchronized <T extends AutoCloseable> T add(String what, T action) {
    steps.push(new Step(what, action));
    return action;
  }

  @Override
  public synchronized void close() {
    while (!steps.isEmpty()) {
      Step step = steps.pop();
      try {
        step.action().close();
      } catch (Exception e) {
        terminal.println(terminal.yellow("! while stopping " + step.what() + ": " + e.getClass().getSimpleName()
            + (e.getMessage() == null ? "" : ": " + e.getMessage())));
      }
    }
  }
}
