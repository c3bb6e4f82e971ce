package io.pgtrail.worker;

import java.time.Duration;

/** Capped exponential backoff: initial, doubled per failure up to max, back to initial on success. */
public final class Backoff {
  private final Duration initial;
  private final Duration max;
  private Duration next;

  public Backoff(Duration initial, Duration max) {
    this.initial = initial;
    this.max = max;
    this.next = initial;
  }

  /** The delay to wait now; the following one doubles, up to the cap. */
  public Duration nextDelay() {
    Duration now = next;
    Duration doubled = next.multipliedBy(2);
    next = doubled.compareTo(max) > 0 ? max : doubled;
    return now;
  }

  public void reset() {
    next = initial;
  }
}
