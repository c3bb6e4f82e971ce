package io.pgtrail.reconciler.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  @Test
  void transitionTimeChangesOnlyOnAFlipAndEachTypeAppearsOnce() {
    Clock t1 = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
    Clock t2 = Clock.fixed(Instant.parse("2026-01-01T01:00:00Z"), ZoneOffset.UTC);
    var first = new Conditions(List.of(), 1L, t1).setFalse("Connected", "Unreachable", "no").list();
    var same = new Conditions(first, 2L, t2).setFalse("Connected", "Timeout", "still no")
        .setFalse("Connected", "Timeout", "set twice").list();
    assertThat(same).hasSize(1);
    assertThat(same.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(same.get(0).getObservedGeneration()).isEqualTo(2L);
    assertThat(same.get(0).getMessage()).isEqualTo("set twice");
    var flipped = new Conditions(same, 2L, t2).setTrue("Connected", "Connected", "yes").list();
    assertThat(flipped.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T01:00:00Z");
  }

  @Test
  void namesAreValidReplicationAndKubernetesNames() {
    assertThat(Names.replicationName("apps", "orders")).isEqualTo("pgtrail_apps_orders");
    assertThat(Names.replicationName("my-ns", "Orders.DB")).isEqualTo("pgtrail_my_ns_orders_db");
    String longName = Names.replicationName("n".repeat(60), "x".repeat(60));
    assertThat(longName).hasSize(63).matches("[a-z0-9_]+");
    assertThat(longName).isNotEqualTo(Names.replicationName("n".repeat(60), "x".repeat(59) + "y"));
    assertThat(Names.child("a".repeat(70), "worker")).hasSizeLessThanOrEqualTo(63).endsWith("-worker");
  }
}
