package io.pgtrail.demo;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Bounded polling: every wait of the demo has a deadline. */
final class Waits {
  private static final Duration POLL = Duration.ofMillis(100);

  private Waits() {}

  /** Polls {@code done} until it holds (true) or {@code timeout} passes (false). */
  static boolean until(Duration timeout, BooleanSupplier done) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (done.getAsBoolean()) {
        return true;
      }
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new DemoFailure("interrupted while waiting");
      }
    }
  }
}
