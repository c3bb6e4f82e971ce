package io.pgtrail.postgres.preflight;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A server started with wal_level=replica: preflight must fail and say how to fix it per provider. */
class WalLevelReplicaTest {
  static LocalPostgres server;

  @BeforeAll
  static void startReplicaServer() {
    server = TestPostgres.start(PgVersion.primary(), b -> b.walLevel("replica"));
  }

  @AfterAll
  static void stop() throws Exception {
    server.close();
  }

  @Test
  void walLevelCheckFailsWithEachProvidersSteps() throws Exception {
    ConnectionSettings db = server.superuser("postgres");
    try (Connection c = PgConnections.open(db)) {
      for (Provider provider : Provider.values()) {
        PreflightReport report = Preflight.run(c, db, new SetupRequest("pgtrail", "pgtrail", provider,
            TrackingScope.schemas("public"), false, false, "uid", null));
        CheckResult wal = report.check(CheckId.WAL_LEVEL).orElseThrow();
        assertThat(wal.status()).isEqualTo(CheckStatus.FAILED);
        assertThat(wal.observed()).isEqualTo("wal_level = replica");
        assertThat(report.ready()).isFalse();
        switch (provider) {
          case SELF_MANAGED -> assertThat(wal.fixIt()).contains("ALTER SYSTEM SET wal_level = logical");
          case AWS_RDS -> assertThat(wal.fixIt()).contains("rds.logical_replication = 1");
          case GCP_CLOUD_SQL -> assertThat(wal.fixIt()).contains("cloudsql.logical_decoding = on");
          case NEON -> assertThat(wal.fixIt()).contains("Logical Replication");
          case RENDER -> assertThat(wal.fixIt()).contains("support request");
          case SUPABASE -> assertThat(wal.fixIt()).contains("connection pooling off");
          case DIGITAL_OCEAN -> assertThat(wal.fixIt()).contains("DigitalOcean support ticket");
          case AZURE -> assertThat(wal.fixIt()).contains("wal_level to logical", "azure.replication_support");
          case TIMESCALE -> assertThat(wal.fixIt()).contains("Timescale", "support request");
        }
      }
    }
  }
}
