package io.pgtrail.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckCommandTest {
  private static String url(ConnectionSettings s) {
    return "postgresql://" + s.user() + "@127.0.0.1:" + s.port() + "/" + s.database() + "?sslmode=disable";
  }

  @Test
  void readyDatabaseExitsZeroWithOneLinePerCheck() {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "check_ok");
    Db.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)");

    CliRun run = CliRun.of("check", "--url", url(db), "--schemas", "public", "--slot", db.database(),
        "--publication", db.database());

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(0);
    assertThat(run.out()).contains("✓ wal-level").contains("! wal-retention-limit").contains("    fix: ")
        .contains("ready for change data capture");
  }

  @Test
  void failedCheckExitsOneAndJsonCarriesReasons() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "check_fail");

    CliRun run = CliRun.of("check", "--url", url(db), "--tables", "public.missing", "--output", "json",
        "--slot", db.database(), "--publication", db.database());

    assertThat(run.exitCode()).isEqualTo(1);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.get("ready").asBoolean()).isFalse();
    JsonNode tables = null;
    for (JsonNode check : json.get("checks")) {
      if (check.get("id").asText().equals("tracked-tables")) {
        tables = check;
      }
    }
    assertThat(tables.get("status").asText()).isEqualTo("failed");
    assertThat(tables.get("reason").asText()).isEqualTo("TrackedTablesInvalid");
    assertThat(tables.get("observed").asText()).contains("\"public\".\"missing\"");
  }

  @Test
  void replicaWalLevelExitsOneWithTheProvidersSteps() throws Exception {
    try (LocalPostgres replica = TestPostgres.start(PgVersion.primary(), b -> b.walLevel("replica"))) {
      CliRun run = CliRun.of("check", "--url", url(replica.superuser("postgres")), "--provider", "awsRds");
      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(run.out()).contains("✗ wal-level").contains("wal_level = replica")
          .contains("rds.logical_replication = 1").contains("not ready");
    }
  }

  @Test
  void wrongPasswordExitsTwoWithoutEchoingIt(@TempDir Path dir) throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(PgVersion.primary(), "check_auth");
    Db.execute(db, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'check_user') THEN"
        + " CREATE ROLE check_user LOGIN PASSWORD 'the-right-one-123'; END IF; END $$");
    Path passwordFile = dir.resolve("password");
    Files.writeString(passwordFile, "Wrong-Secret-987\n");

    CliRun run = CliRun.of("check", "--url", "postgresql://check_user@127.0.0.1:" + db.port() + "/" + db.database()
        + "?sslmode=disable", "--password-file", passwordFile.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("password authentication failed for user \"check_user\"");
    assertThat(run.out() + run.err()).doesNotContain("Wrong-Secret-987");
  }

  @Test
  void unreachableHostAndBadUsageExitTwo() {
    int port = LocalPostgres.freePort();
    CliRun unreachable = CliRun.of("check", "--url", "postgresql://u@127.0.0.1:" + port + "/db");
    assertThat(unreachable.exitCode()).isEqualTo(2);
    assertThat(unreachable.err()).contains("cannot reach PostgreSQL at 127.0.0.1:" + port);

    assertThat(CliRun.of("check").exitCode()).isEqualTo(2);
    CliRun badSlot = CliRun.of("check", "--url", "postgresql://u@127.0.0.1:" + port + "/db", "--slot", "Bad-Slot");
    assertThat(badSlot.exitCode()).isEqualTo(2);
    assertThat(badSlot.err()).contains("replication slot name 'Bad-Slot' is invalid");
  }
}
