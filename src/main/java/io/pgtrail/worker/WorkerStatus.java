package io.pgtrail.worker;

import io.pgtrail.worker.sink.ProgressTable;
import java.sql.Timestamp;
import java.time.Duration;

/**
 * What the worker is doing, for {@code /readyz}, the metrics and {@code pgtrail_progress}: its state and
 * the reason, the last failure (class and a message without row values or secrets), and when the
 * acknowledged position last moved. Written by the worker thread, read by the HTTP thread.
 */
public final class WorkerStatus {
  /** The states of CONTRACTS.md, stored lower case. */
  public enum State { STARTING, STREAMING, RETRYING, STALLED, STOPPED;

    public String value() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private volatile State state = State.STARTING;
  private volatile String reason;
  private volatile String lastErrorClass;
  private volatile String lastErrorMessage;
  private volatile long lastErrorAtMillis;
  private volatile int consecutiveFailures;
  private volatile long lastProgressNanos = System.nanoTime();
  private volatile boolean behind;

  public State state() {
    return state;
  }

  public String reason() {
    return reason;
  }

  public int consecutiveFailures() {
    return consecutiveFailures;
  }

  public String lastErrorClass() {
    return lastErrorClass;
  }

  void set(State state, String reason) {
    this.state = state;
    this.reason = reason;
  }

  void failed(String errorClass, String message) {
    lastErrorClass = errorClass;
    lastErrorMessage = message;
    lastErrorAtMillis = System.currentTimeMillis();
    consecutiveFailures++;
  }

  /** A change the destination refused was isolated: the last error, but not a failure of the loop. */
  void rejected(String errorClass, String message) {
    lastErrorClass = errorClass;
    lastErrorMessage = message;
    lastErrorAtMillis = System.currentTimeMillis();
  }

  /** The acknowledged position moved (or the worker caught up): failures are over. */
  void progressed() {
    lastProgressNanos = System.nanoTime();
    consecutiveFailures = 0;
    if (state != State.STOPPED) {
      set(State.STREAMING, null);
    }
  }

  /**
   * Rows were committed in the destination (within a long transaction the acknowledged position does not
   * move, but this is progress too); does not change the state.
   */
  void wrote() {
    lastProgressNanos = System.nanoTime();
  }

  /** Whether the source has WAL beyond what the worker acknowledged (so a still position is a stall). */
  void behind(boolean behind) {
    this.behind = behind;
  }

  public Duration sinceProgress() {
    return Duration.ofNanos(System.nanoTime() - lastProgressNanos);
  }

  /** Ready: streaming, and the acknowledged position moved within {@code stallAfter} or there is nothing to move to. */
  public boolean ready(Duration stallAfter) {
    return state == State.STREAMING && !(behind && sinceProgress().compareTo(stallAfter) > 0);
  }

  /** One line for {@code /readyz}. */
  public String describe(Duration stallAfter) {
    if (ready(stallAfter)) {
      return "streaming";
    }
    if (state == State.STREAMING) {
      return "stalled: no acknowledged progress for " + sinceProgress().toSeconds() + " s while the slot has data";
    }
    return state.value() + (reason == null ? "" : " (" + reason + ")")
        + (lastErrorClass == null ? "" : ": last error " + lastErrorClass + ", " + consecutiveFailures
        + " consecutive failures");
  }

  ProgressTable.Snapshot snapshot(Duration stallAfter) {
    boolean stalledWhileConnected = state == State.STREAMING && !ready(stallAfter);
    return new ProgressTable.Snapshot(stalledWhileConnected ? State.STALLED.value() : state.value(),
        stalledWhileConnected ? "NoProgress" : reason, lastErrorClass, lastErrorMessage,
        lastErrorAtMillis == 0 ? null : new Timestamp(lastErrorAtMillis), consecutiveFailures);
  }
}
