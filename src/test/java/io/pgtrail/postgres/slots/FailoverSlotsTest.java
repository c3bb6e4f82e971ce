package io.pgtrail.postgres.slots;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.plan.SetupScripts;
import io.pgtrail.postgres.plan.SetupSql;
import io.pgtrail.postgres.preflight.CheckId;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The failover verdict and the slot statements, as text. */
class FailoverSlotsTest {
  private static final FailoverSlots.StandbyFacts NO_STANDBY =
      new FailoverSlots.StandbyFacts(List.of(), List.of(), List.of(), 0);
  private static final FailoverSlots.StandbyFacts SYNCHRONIZED =
      new FailoverSlots.StandbyFacts(List.of("standby_1"), List.of(), List.of(), 1);
  private static final Optional<FailoverSlots.SlotFlags> FAILOVER_ON =
      Optional.of(new FailoverSlots.SlotFlags(true, false, false, null));

  @Test
  void slotIsCreatedWithFailoverOnlyWhereTheServerSupportsIt() {
    assertThat(ReplicationSlots.createSlot("s1", true, 17).inline())
        .isEqualTo("SELECT pg_create_logical_replication_slot('s1', 'pgoutput', false, false, true)");
    assertThat(ReplicationSlots.createSlot("s1", true, 18).params()).containsExactly("s1");
    assertThat(ReplicationSlots.createSlot("s1", true, 16)).isEqualTo(ReplicationSlots.createSlot("s1"));
    assertThat(ReplicationSlots.createSlot("s1", false, 17)).isEqualTo(ReplicationSlots.createSlot("s1"));
  }

  @Test
  void readyOnlyWithFailoverOnAndStreamingSynchronizedStandbys() {
    FailoverSlots.Readiness ready = FailoverSlots.assess(17, true, "s1", FAILOVER_ON, SYNCHRONIZED);
    assertThat(ready.ready()).isTrue();
    assertThat(ready.observed()).isEqualTo("slot \"s1\" has failover on; synchronized_standby_slots = standby_1");
    assertThat(ready.fixIt()).isEmpty();
    assertThat(FailoverSlots.assess(18, true, "s1", Optional.empty(), SYNCHRONIZED).observed())
        .startsWith("slot \"s1\" will be created with failover");
  }

  @Test
  void everyShortfallNamesWhatToSet() {
    FailoverSlots.Readiness old = FailoverSlots.assess(16, true, "s1", Optional.empty(), SYNCHRONIZED);
    assertThat(old.ready()).isFalse();
    assertThat(old.fixIt()).contains("PostgreSQL 17");

    FailoverSlots.Readiness off = FailoverSlots.assess(17, false, "s1", FAILOVER_ON, SYNCHRONIZED);
    assertThat(off.ready()).isFalse();
    assertThat(off.fixIt()).contains("spec.failoverSlot", "--no-failover-slot");

    FailoverSlots.Readiness plainSlot = FailoverSlots.assess(17, true, "s1",
        Optional.of(new FailoverSlots.SlotFlags(false, false, false, null)), SYNCHRONIZED);
    assertThat(plainSlot.observed()).isEqualTo("slot \"s1\" was created without failover");
    assertThat(plainSlot.fixIt()).contains("ALTER_REPLICATION_SLOT \"s1\" (FAILOVER true)", "replication=database");

    FailoverSlots.Readiness unsynchronized = FailoverSlots.assess(17, true, "s1", FAILOVER_ON,
        new FailoverSlots.StandbyFacts(List.of(), List.of(), List.of(), 2));
    assertThat(unsynchronized.observed()).contains("2 standby(s) attached", "synchronized_standby_slots is empty");
    assertThat(unsynchronized.fixIt()).contains("sync_replication_slots = on", "hot_standby_feedback = on",
        "primary_slot_name", "dbname in primary_conninfo", "synchronized_standby_slots",
        "synchronizeLogicalDecoding", "docs/high-availability.md");

    assertThat(FailoverSlots.assess(17, true, "s1", FAILOVER_ON, NO_STANDBY).observed())
        .contains("no physical standby is attached");

    FailoverSlots.Readiness missing = FailoverSlots.assess(17, true, "s1", FAILOVER_ON,
        new FailoverSlots.StandbyFacts(List.of("gone"), List.of("gone"), List.of(), 0));
    assertThat(missing.observed()).isEqualTo("synchronized_standby_slots names slot(s) that do not exist: gone");

    FailoverSlots.Readiness stalled = FailoverSlots.assess(17, true, "s1", FAILOVER_ON,
        new FailoverSlots.StandbyFacts(List.of("standby_1"), List.of(), List.of("standby_1"), 0));
    assertThat(stalled.fixIt()).contains("waits for it and no change is recorded");
  }

  @Test
  void docsNameEveryCheckReasonAndFieldThisWorkIntroduced() throws Exception {
    String ha = java.nio.file.Files.readString(java.nio.file.Path.of("docs/high-availability.md"));
    String versions = java.nio.file.Files.readString(java.nio.file.Path.of("docs/postgresql-versions.md"));
    for (CheckId id : List.of(CheckId.FAILOVER_SLOT, CheckId.IDLE_SLOT_TIMEOUT)) {
      assertThat(ha).contains("`" + id.id() + "`", id.reason());
    }
    assertThat(versions).contains("`" + CheckId.IDLE_SLOT_TIMEOUT.id() + "`", CheckId.IDLE_SLOT_TIMEOUT.reason(),
        "`" + CheckId.VIRTUAL_GENERATED_COLUMNS.id() + "`", CheckId.VIRTUAL_GENERATED_COLUMNS.reason(),
        "publish_generated_columns = stored");
    for (java.lang.reflect.Field field : SourceDatabaseStatus.SlotFacts.class.getFields()) {
      if (List.of("failover", "failoverReady", "failoverMessage", "invalidationReason").contains(field.getName())) {
        assertThat(ha).contains(field.getName() + ":");
      }
    }
    assertThat(ha).contains("spec.failoverSlot", "--no-failover-slot", "SlotRecreated", "SlotInvalidated",
        "synchronizeLogicalDecoding", "sync_replication_slots", "synchronized_standby_slots");
    assertThat(SourceDatabaseSpec.class.getField("failoverSlot")).isNotNull();
  }

  @Test
  void synchronizedStandbySlotsIsACommaSeparatedList() {
    assertThat(FailoverSlots.parseSlotList("")).isEmpty();
    assertThat(FailoverSlots.parseSlotList(null)).isEmpty();
    assertThat(FailoverSlots.parseSlotList("a, \"b\" ,c")).containsExactly("a", "b", "c");
  }

  @Test
  void printedScriptCreatesAFailoverSlotOn17AndAPlainOneBefore() {
    SetupRequest request = new SetupRequest("pub", "s1", Provider.SELF_MANAGED, TrackingScope.schemas("public"), false,
        false, SetupScripts.SCRIPT_OWNER, null);
    String script = SetupScripts.setup(request, null);
    assertThat(script).contains("current_setting('server_version_num')::int >= 170000",
        "PERFORM pg_create_logical_replication_slot('s1', 'pgoutput', false, false, true);",
        "PERFORM pg_create_logical_replication_slot('s1', 'pgoutput');");
    assertThat(SetupScripts.setup(request.withFailoverSlot(false), null))
        .doesNotContain("false, false, true").contains("SELECT pg_create_logical_replication_slot('s1', 'pgoutput')");
  }
}
