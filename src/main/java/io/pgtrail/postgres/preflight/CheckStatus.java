package io.pgtrail.postgres.preflight;

/** The outcome of one preflight check. */
public enum CheckStatus {
  OK("✓"),
  WARNING("!"),
  FAILED("✗"),
  SKIPPED("-");

  private final String mark;

  CheckStatus(String mark) {
    this.mark = mark;
  }

  public String mark() {
    return mark;
  }
}
