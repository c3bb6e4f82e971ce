package io.pgtrail.postgres.plan;

/** Setup or teardown refused to act; {@link #reason()} is a CamelCase condition reason. */
public final class SetupException extends Exception {
  private final String reason;

  public SetupException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
