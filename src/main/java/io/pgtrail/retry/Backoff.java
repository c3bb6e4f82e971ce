package io.pgtrail.retry;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongUnaryOperator;

/**
 * Capped exponential backoff with "equal jitter": the n-th delay lies between half and all of
 * {@code initial * 2^n} (capped at {@code max}), so workers that failed together do not retry together.
 * Callers reset it only after real progress (for the worker: an acknowledged position; for an SSH tunnel: a
 * session that authenticated and forwards again), never merely after connecting, or a failure that strikes
 * right after each connect would retry at the initial pace.
 *
 * <p>Not thread-safe: one owner (a worker's loop, a tunnel's reconnect thread) asks and resets it.
 */
public final class Backoff {
  private final Duration initial;
  private final Duration max;
  private final LongUnaryOperator randomBelow;
  private Duration ceiling;
  private int failures;

  public Backoff(Duration initial, Duration max) {
    this(initial, max, bound -> ThreadLocalRandom.current().nextLong(bound));
  }

  /** {@code randomBelow.applyAsLong(n)} returns a value in {@code [0, n)}; tests pass a fixed one. */
  public Backoff(Duration initial, Duration max, LongUnaryOperator randomBelow) {
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("backoff needs 0 < initial <= max, got " + initial + " and " + max);
    }
    this.initial = initial;
    this.max = max;
    this.randomBelow = randomBelow;
    this.ceiling = initial;
  }

  /** The delay to wait now; the ceiling of the following one doubles, up to the cap. */
  public Duration nextDelay() {
    long ceilingNanos = ceiling.toNanos();
    long half = ceilingNanos / 2;
    long delay = half + randomBelow.applyAsLong(ceilingNanos - half + 1);
    Duration doubled = ceiling.multipliedBy(2);
    ceiling = doubled.compareTo(max) > 0 ? max : doubled;
    failures++;
    return Duration.ofNanos(delay);
  }

  /** Failures since the last reset. */
  public int failures() {
    return failures;
  }

  /** After progress: the next failure waits about the initial delay again. */
  public void reset() {
    ceiling = initial;
    failures = 0;
  }
}
