package io.pgtrail.postgres.connect;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Properties;
import org.postgresql.Driver;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLState;

/** Opens JDBC connections and turns driver failures into {@link PgConnectException}s. */
public final class PgConnections {
  private static final Driver DRIVER = new Driver();

  private PgConnections() {}

  /** An ordinary SQL connection in autocommit mode. */
  public static Connection open(ConnectionSettings settings) throws PgConnectException {
    return connect(settings, settings.jdbcProperties());
  }

  /** A logical replication connection ({@code replication=database}). */
  public static PGConnection openReplication(ConnectionSettings settings) throws PgConnectException {
    try {
      return connect(settings, settings.replicationProperties()).unwrap(PGConnection.class);
    } catch (SQLException e) {
      throw classify(settings, e);
    }
  }

  private static Connection connect(ConnectionSettings settings, Properties properties)
      throws PgConnectException {
    try {
      Connection connection = DRIVER.connect(settings.jdbcUrl(), properties);
      if (connection == null) {
        throw new PgConnectException(PgConnectException.Reason.OTHER,
            "the PostgreSQL driver did not accept " + settings.redacted(), null);
      }
      return connection;
    } catch (SQLException e) {
      throw classify(settings, e);
    }
  }

  /** Maps a driver exception to a reason and a message that is safe to show anywhere. */
  public static PgConnectException classify(ConnectionSettings settings, SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String where = settings.host() + ":" + settings.port();
    Throwable cause = rootCause(e);
    if (state.equals("28P01") || state.equals("28000") && messageContains(e, "password")) {
      return new PgConnectException(PgConnectException.Reason.AUTHENTICATION_FAILED,
          "password authentication failed for user \"" + settings.user() + "\" at " + where
              + ": check the password in the credentials Secret (or PGPASSWORD)", state);
    }
    if (state.equals("28000")) {
      return new PgConnectException(PgConnectException.Reason.NOT_PERMITTED,
          "the server at " + where + " rejected user \"" + settings.user() + "\" for database \""
              + settings.database() + "\" (pg_hba.conf or role attributes): " + firstLine(e), state);
    }
    if (state.equals("3D000")) {
      return new PgConnectException(PgConnectException.Reason.DATABASE_NOT_FOUND,
          "database \"" + settings.database() + "\" does not exist on " + where
              + ": check the database name", state);
    }
    if (state.equals("53300")) {
      return new PgConnectException(PgConnectException.Reason.TOO_MANY_CONNECTIONS,
          "the server at " + where + " has no free connection slots (max_connections)", state);
    }
    if (cause instanceof UnknownHostException) {
      return new PgConnectException(PgConnectException.Reason.UNREACHABLE,
          "host \"" + settings.host() + "\" cannot be resolved: check the host name and DNS", state);
    }
    if (cause instanceof SocketTimeoutException || messageContains(e, "timed out")
        || messageContains(e, "timeout")) {
      return new PgConnectException(PgConnectException.Reason.TIMEOUT,
          "no answer from " + where + " within " + settings.connectTimeoutSeconds()
              + "s: check the host, port, firewall and network policy", state);
    }
    if (cause instanceof ConnectException || cause instanceof NoRouteToHostException
        || PSQLState.CONNECTION_UNABLE_TO_CONNECT.getState().equals(state)) {
      return new PgConnectException(PgConnectException.Reason.UNREACHABLE,
          "cannot reach PostgreSQL at " + where + " (" + (cause instanceof NoRouteToHostException
              ? "no route to host" : "connection refused")
              + "): check the host, port and that the server accepts TCP connections", state);
    }
    if (messageContains(e, "SSL")) {
      return new PgConnectException(PgConnectException.Reason.SSL_FAILED,
          "TLS negotiation with " + where + " failed under sslmode=" + settings.sslMode().libpq()
              + ": " + firstLine(e), state);
    }
    return new PgConnectException(PgConnectException.Reason.OTHER,
        "cannot connect to " + settings.redacted() + ": " + firstLine(e), state);
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  private static boolean messageContains(Throwable t, String word) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c.getMessage() != null && c.getMessage().toLowerCase().contains(word.toLowerCase())) {
        return true;
      }
    }
    return false;
  }

  private static String firstLine(SQLException e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
