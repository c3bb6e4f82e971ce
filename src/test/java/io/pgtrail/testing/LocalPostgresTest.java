package io.pgtrail.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import java.sql.Connection;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class LocalPostgresTest {
  @Parameter PgVersion version;

  @Test
  void servesTheRequestedMajorWithLogicalWal() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "smoke");
    try (Connection c = PgConnections.open(db);
        ResultSet rs = c.createStatement().executeQuery(
            "SELECT current_setting('server_version_num')::int / 10000, current_setting('wal_level')")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(version.major());
      assertThat(rs.getString(2)).isEqualTo("logical");
    }
  }
}
