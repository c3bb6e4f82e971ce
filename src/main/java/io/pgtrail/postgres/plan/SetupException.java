package io.pgtrail.postgres.plan;

/** Setup or teardown refused to act; {@link #reason()} is a CamelCase condition reason. */
public final class SetupException extends Exception {
  /** The server is older than {@link SetupPlan#MIN_SERVER_MAJOR} (also the preflight check's reason). */
  public static final String UNSUPPORTED_VERSION = "UnsupportedVersion";
  /** The tracking scope names schemas or tables that do not exist (also the preflight check's reason). */
  public static final String TRACKED_TABLES_INVALID = "TrackedTablesInvalid";

  private final String reason;

  public SetupException(String reason, String message) {
    super(message);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
