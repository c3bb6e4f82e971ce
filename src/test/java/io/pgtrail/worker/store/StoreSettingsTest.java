package io.pgtrail.worker.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrail.api.v1alpha1.DestinationEndpointSpec;
import io.pgtrail.reconciler.sourcedatabase.WorkerResources;
import io.pgtrail.worker.WorkerConfig;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PartitionPeriod;
import io.pgtrail.worker.sink.UuidV7;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Store settings from the worker config and from spec.destination, period arithmetic, and UUIDv7 bits. */
class StoreSettingsTest {
  static final String BASE = "source: { url: \"postgresql://u@h/db\" }\nslot: s\npublication: p\n"
      + "destination: { url: \"postgresql://u@audit/audit\" }\n";

  @Test
  void theWorkerConfigStoreSectionBecomesSettings() {
    StoreSettings settings = WorkerConfig.parse(BASE
        + "store: { partitionBy: daily, partitionsAhead: 5, retention: 90d, retentionMode: detach }\n")
        .store().toSettings();
    assertThat(settings).isEqualTo(new StoreSettings(new ChangesTable.Layout(PartitionPeriod.DAILY, 5),
        Duration.ofDays(90), StoreSettings.RetentionMode.DETACH));
    assertThat(WorkerConfig.parse(BASE).store().toSettings()).isEqualTo(StoreSettings.DEFAULT);
    assertThat(StoreSettings.parseRetention("12w")).isEqualTo(Duration.ofDays(84));
    assertThat(StoreSettings.parseRetention("none")).isNull();
  }

  @Test
  void badStoreSettingsNameTheKey() {
    assertThatThrownBy(() -> WorkerConfig.parse(BASE + "store: { retention: 3 months }\n"))
        .hasMessageContaining("store.retention must be a number of days or weeks");
    assertThatThrownBy(() -> WorkerConfig.parse(BASE + "store: { partitionBy: hourly }\n"))
        .hasMessageContaining("partitionBy must be daily, weekly, monthly or none");
    assertThatThrownBy(() -> WorkerConfig.parse(BASE + "store: { partitionBy: none, retention: 30d }\n"))
        .hasMessageContaining("retention needs a partitioned changes table");
    assertThatThrownBy(() -> WorkerConfig.parse(BASE + "store: { retentionMode: archive }\n"))
        .hasMessageContaining("retentionMode must be drop or detach");
  }

  @Test
  void theOperatorRendersSpecDestinationIntoAConfigTheWorkerAccepts() {
    DestinationEndpointSpec destination = new DestinationEndpointSpec();
    destination.partitionBy = DestinationEndpointSpec.PartitionBy.MONTHLY;
    destination.retention = "26w";
    destination.retentionMode = DestinationEndpointSpec.RetentionMode.DETACH;
    WorkerResources.Endpoint endpoint = new WorkerResources.Endpoint("audit", 5432, "audit", "writer", "disable",
        "pw", null);
    WorkerResources.Inputs inputs = new WorkerResources.Inputs("img:1", null, null, 9090, endpoint, endpoint, "s", "p",
        List.of(), WorkerResources.Behaviour.DEFAULTS, null, null, null, WorkerResources.Store.from(destination));
    String yaml = WorkerResources.workerYaml(inputs);
    assertThat(yaml).contains("store:").contains("partitionBy: monthly").contains("retention: 26w")
        .doesNotContain("partitionsAhead");
    assertThat(WorkerConfig.parse(yaml).store().toSettings()).isEqualTo(new StoreSettings(
        new ChangesTable.Layout(PartitionPeriod.MONTHLY, 2), Duration.ofDays(182), StoreSettings.RetentionMode.DETACH));
    assertThat(WorkerResources.workerYaml(new WorkerResources.Inputs("img:1", null, null, 9090, endpoint, endpoint,
        "s", "p", List.of(), WorkerResources.Behaviour.DEFAULTS, null, null, null, WorkerResources.Store.from(new DestinationEndpointSpec()))))
        .doesNotContain("store:");
  }

  @Test
  void periodsStartAtMidnightUtcOnMondaysAndFirstDays() {
    Instant t = Instant.parse("2026-03-01T23:59:59Z"); // a Sunday
    assertThat(PartitionPeriod.DAILY.start(t)).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
    assertThat(PartitionPeriod.WEEKLY.start(t)).isEqualTo(Instant.parse("2026-02-23T00:00:00Z"));
    assertThat(PartitionPeriod.WEEKLY.next(t)).isEqualTo(Instant.parse("2026-03-02T00:00:00Z"));
    assertThat(PartitionPeriod.MONTHLY.start(t)).isEqualTo(Instant.parse("2026-03-01T00:00:00Z"));
    assertThat(PartitionPeriod.MONTHLY.next(Instant.parse("2026-12-31T12:00:00Z")))
        .isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
  }

  @Test
  void uuidV7IdsCarryTheTimeAndStayOrderedWithinAMillisecondAndWhenTheClockStepsBack() {
    long[] clock = {1_764_300_000_000L};
    UuidV7 ids = new UuidV7(() -> clock[0]);
    Set<UUID> seen = new HashSet<>();
    UUID previous = null;
    for (int i = 0; i < 200_000; i++) {
      if (i % 50_000 == 0) {
        clock[0] += 1;
      }
      if (i == 150_000) {
        clock[0] -= 10; // the wall clock steps back: ids keep increasing
      }
      UUID id = ids.next();
      assertThat(id.version()).isEqualTo(7);
      assertThat(id.variant()).isEqualTo(2);
      if (previous != null) {
        assertThat(compareUnsigned(id, previous)).isPositive();
      }
      assertThat(seen.add(id)).isTrue();
      previous = id;
    }
    assertThat(UuidV7.millis(previous)).isBetween(1_764_300_000_003L, 1_764_300_000_010L);
  }

  /** PostgreSQL orders uuids by their bytes, unsigned. */
  static int compareUnsigned(UUID a, UUID b) {
    int msb = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
    return msb != 0 ? msb : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
  }
}
