package io.pgtrail.postgres.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Bad connection input gets a classified, secret-free answer within the connect timeout. */
class ConnectionFailuresTest {
  private static final String SECRET = "Very-Secret-Pa55word";

  @Test
  void wrongPasswordIsAuthenticationFailedAndNeverEchoed() {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "auth");
    Db.execute(db, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'auth_user') THEN"
        + " CREATE ROLE auth_user LOGIN PASSWORD 'right-password-123'; END IF; END $$");
    PgConnectException e = catchThrowableOfType(PgConnectException.class,
        () -> PgConnections.open(db.withUser("auth_user", SECRET)).close());
    assertThat(e.reason()).isEqualTo(PgConnectException.Reason.AUTHENTICATION_FAILED);
    assertThat(e.getMessage()).contains("auth_user").doesNotContain(SECRET);
  }

  @Test
  void closedPortIsUnreachable() {
    int port = LocalPostgres.freePort();
    ConnectionSettings nowhere = ConnectionSettings.builder().host("127.0.0.1").port(port).database("x").user("u")
        .password(SECRET).sslMode(SslMode.DISABLE).build();
    PgConnectException e = catchThrowableOfType(PgConnectException.class, () -> PgConnections.open(nowhere).close());
    assertThat(e.reason()).isEqualTo(PgConnectException.Reason.UNREACHABLE);
    assertThat(e.getMessage()).contains("127.0.0.1:" + port).doesNotContain(SECRET);
  }

  @Test
  void unresolvableHostIsUnreachable() {
    ConnectionSettings nowhere = ConnectionSettings.builder().host("no-such-host.invalid").database("x").user("u")
        .sslMode(SslMode.DISABLE).build();
    PgConnectException e = catchThrowableOfType(PgConnectException.class, () -> PgConnections.open(nowhere).close());
    assertThat(e.reason()).isEqualTo(PgConnectException.Reason.UNREACHABLE);
    assertThat(e.getMessage()).contains("cannot be resolved");
  }

  /** Without the login timeout the connect would wait for ever: {@code @Timeout} is the hang guard, not a bound. */
  @Test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void silentPeerTimesOutWithinTheConnectTimeout() throws Exception {
    // A listening socket that never answers: the TCP connect succeeds, the startup packet gets no reply.
    try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      ConnectionSettings mute = ConnectionSettings.builder().host("127.0.0.1").port(silent.getLocalPort())
          .database("x").user("u").sslMode(SslMode.DISABLE).connectTimeoutSeconds(2).build();
      PgConnectException e = catchThrowableOfType(PgConnectException.class, () -> PgConnections.open(mute).close());
      assertThat(e.reason()).isEqualTo(PgConnectException.Reason.TIMEOUT);
      assertThat(e.getMessage()).contains("no answer from").contains("within 2s");
      assertThat(mute.jdbcProperties()).as("what bounds the wait").containsEntry("loginTimeout", "2");
    }
  }

  @Test
  void missingDatabaseIsNamed() throws Exception {
    ConnectionSettings missing = TestPostgres.shared(PgVersion.primary()).superuser("no_such_db");
    PgConnectException e = catchThrowableOfType(PgConnectException.class, () -> {
      try (Connection c = PgConnections.open(missing)) {
        c.isValid(1);
      }
    });
    assertThat(e.reason()).isEqualTo(PgConnectException.Reason.DATABASE_NOT_FOUND);
    assertThat(e.getMessage()).contains("\"no_such_db\" does not exist");
  }
}
