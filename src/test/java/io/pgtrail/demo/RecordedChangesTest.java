package io.pgtrail.demo;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RecordedChangesTest {
  @Test
  void timestampsShowTheirTimeOfDayAndLongValuesAreCut() {
    assertThat(RecordedChanges.shorten("2026-11-24 09:06:51.364787+00")).isEqualTo("09:06:51.364");
    assertThat(RecordedChanges.shorten("2026-11-24T09:06:51Z")).isEqualTo("09:06:51");
    assertThat(RecordedChanges.shorten("ada@example.com")).isEqualTo("ada@example.com");
    assertThat(RecordedChanges.shorten("x".repeat(40))).hasSize(32).endsWith("…");
  }
}
