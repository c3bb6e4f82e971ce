package io.pgtrail.postgres.connect;

/**
 * A connection attempt that failed, classified so callers can set a condition reason. The message
 * names host, port, database and user at most: never a password or a full DSN.
 */
public final class PgConnectException extends Exception {
  public enum Reason {
    AUTHENTICATION_FAILED("AuthenticationFailed"),
    UNREACHABLE("Unreachable"),
    TIMEOUT("ConnectTimeout"),
    DATABASE_NOT_FOUND("DatabaseNotFound"),
    SSL_FAILED("SslFailed"),
    TOO_MANY_CONNECTIONS("TooManyConnections"),
    NOT_PERMITTED("ConnectNotPermitted"),
    OTHER("ConnectFailed");

    private final String camelCase;

    Reason(String camelCase) {
      this.camelCase = camelCase;
    }

    /** The CamelCase word used as a Kubernetes condition reason. */
    public String camelCase() {
      return camelCase;
    }
  }

  private final Reason reason;
  private final String sqlState;

  public PgConnectException(Reason reason, String message, String sqlState) {
    super(message);
    this.reason = reason;
    this.sqlState = sqlState;
  }

  public Reason reason() {
    return reason;
  }

  public String sqlState() {
    return sqlState;
  }
}
