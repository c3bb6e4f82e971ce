package io.pgtrail.postgres.preflight;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.plan.SetupScripts;
import io.pgtrail.postgres.slots.FailoverSlots;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.SqlScript;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Failover slots and the PostgreSQL 18 idle timeout on a real single server of each major. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class FailoverPreflightTest {
  @Parameter PgVersion version;

  private SetupRequest request(ConnectionSettings db) {
    return new SetupRequest(db.database(), db.database(), Provider.SELF_MANAGED, TrackingScope.schemas("public"),
        false, false, "uid-ha", null);
  }

  private PreflightReport preflight(ConnectionSettings db, SetupRequest request) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return Preflight.run(c, db, request);
    }
  }

  private Optional<FailoverSlots.SlotFlags> flags(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db)) {
      return FailoverSlots.flags(c, db.database());
    }
  }

  private static void dropSlot(ConnectionSettings db) {
    Db.execute(db, "SELECT pg_drop_replication_slot('" + db.database() + "')");
  }

  @Test
  void setupCreatesAFailoverSlotWhereSupportedAndSaysSoOnASingleServer() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "ha_setup");
    Db.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)");
    try (Connection c = PgConnections.open(db)) {
      SetupExecutor.apply(c, request(db));
    }
    PreflightReport report = preflight(db, request(db));
    CheckResult failover = report.check(CheckId.FAILOVER_SLOT).orElseThrow();
    if (FailoverSlots.supported(version.major())) {
      assertThat(flags(db)).contains(new FailoverSlots.SlotFlags(true, false, false, null));
      assertThat(failover.status()).as("%s", failover).isEqualTo(CheckStatus.OK);
      assertThat(failover.observed()).contains("has failover on", "no physical standby is attached");
    } else {
      assertThat(flags(db)).isEmpty();
      assertThat(failover.status()).isEqualTo(CheckStatus.SKIPPED);
    }
    dropSlot(db);
  }

  @Test
  void turnedOffTheSlotIsPlainAndTheCheckSaysSo() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "ha_off");
    Db.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)");
    SetupRequest off = request(db).withFailoverSlot(false);
    try (Connection c = PgConnections.open(db)) {
      SetupExecutor.apply(c, off);
    }
    assertThat(flags(db).map(FailoverSlots.SlotFlags::failover)).isNotEqualTo(Optional.of(true));
    assertThat(preflight(db, off).check(CheckId.FAILOVER_SLOT).orElseThrow().status()).isEqualTo(CheckStatus.SKIPPED);
    if (FailoverSlots.supported(version.major())) {
      // a plain slot where failover is wanted: a warning that says how to turn it on
      CheckResult plain = preflight(db, request(db)).check(CheckId.FAILOVER_SLOT).orElseThrow();
      assertThat(plain.status()).isEqualTo(CheckStatus.WARNING);
      assertThat(plain.fixIt()).contains("ALTER_REPLICATION_SLOT");
    }
    dropSlot(db);
  }

  @Test
  void printedScriptCreatesTheSameSlotAsSetup() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "ha_script");
    Db.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)");
    String script = SetupScripts.setup(request(db), null);
    SqlScript.run(db, script);
    SqlScript.run(db, script);
    assertThat(flags(db).map(FailoverSlots.SlotFlags::failover))
        .isEqualTo(FailoverSlots.supported(version.major()) ? Optional.of(true) : Optional.empty());
    dropSlot(db);
  }

  @Test
  void idleSlotTimeoutOfPostgres18IsAWarningAndAnInvalidatedSlotSaysWhy() throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "ha_idle");
    CheckResult onDefaults = preflight(db, request(db)).check(CheckId.IDLE_SLOT_TIMEOUT).orElseThrow();
    if (version.major() < FailoverSlots.IDLE_TIMEOUT_MAJOR) {
      assertThat(onDefaults.status()).isEqualTo(CheckStatus.SKIPPED);
      return;
    }
    assertThat(onDefaults.status()).isEqualTo(CheckStatus.OK);
    // a private server: a one-second timeout would invalidate other tests' slots on the shared one
    try (LocalPostgres server = TestPostgres.start(version, b -> b.serverConfig("idle_replication_slot_timeout", "1"))) {
      ConnectionSettings idle = server.createDatabase("idle");
      Db.execute(idle, "CREATE TABLE orders (id int PRIMARY KEY)");
      try (Connection c = PgConnections.open(idle)) {
        SetupExecutor.apply(c, request(idle));
      }
      CheckResult check = preflight(idle, request(idle)).check(CheckId.IDLE_SLOT_TIMEOUT).orElseThrow();
      assertThat(check.status()).isEqualTo(CheckStatus.WARNING);
      assertThat(check.observed()).isEqualTo("idle_replication_slot_timeout = 1s");
      assertThat(check.fixIt()).contains("ALTER SYSTEM SET idle_replication_slot_timeout = 0", "gap");

      // idle for longer than the timeout, the slot is invalidated by the next checkpoint
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .pollInterval(java.time.Duration.ofMillis(500)).until(() -> {
            Db.execute(idle, "CHECKPOINT");
            try (Connection c = PgConnections.open(idle)) {
              return FailoverSlots.invalidation(c, idle.database()).equals(Optional.of("idle_timeout"));
            }
          });
    }
  }

  @Test
  void idleTimeoutReadsAsTheUserWouldWriteIt() {
    assertThat(Preflight.humanSeconds(86400)).isEqualTo("1d");
    assertThat(Preflight.humanSeconds(7200)).isEqualTo("2h");
    assertThat(Preflight.humanSeconds(600)).isEqualTo("10min");
    assertThat(Preflight.humanSeconds(45)).isEqualTo("45s");
  }
}
