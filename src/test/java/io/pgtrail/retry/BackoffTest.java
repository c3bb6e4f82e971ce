package io.pgtrail.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static List<Long> delays(Backoff backoff, int n) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(backoff.nextDelay().toMillis());
    }
    return out;
  }

  @Test
  void doublesUpToTheCapWithEqualJitterAndResetsOnlyWhenTold() {
    Backoff lowest = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), bound -> 0);
    Backoff highest = new Backoff(Duration.ofMillis(100), Duration.ofMillis(1000), bound -> bound - 1);
    assertThat(delays(lowest, 6)).containsExactly(50L, 100L, 200L, 400L, 500L, 500L);
    assertThat(delays(highest, 6)).containsExactly(100L, 200L, 400L, 800L, 1000L, 1000L);
    assertThat(lowest.failures()).isEqualTo(6);

    lowest.reset();
    assertThat(lowest.failures()).isZero();
    assertThat(delays(lowest, 1)).containsExactly(50L);
  }

  @Test
  void theRandomPicksEachDelayInTheUpperHalfOfItsCeiling() {
    List<Long> bounds = new ArrayList<>();
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofMillis(400), bound -> {
      bounds.add(bound);
      return bound / 2;
    });
    assertThat(delays(backoff, 4)).containsExactly(75L, 150L, 300L, 300L);
    long ms = 1_000_000L;
    assertThat(bounds).containsExactly(50 * ms + 1, 100 * ms + 1, 200 * ms + 1, 200 * ms + 1);
  }

  @Test
  void realJitterStaysWithinHalfAndAllOfTheCeiling() {
    Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofMillis(200));
    for (long delay : delays(backoff, 200)) {
      assertThat(delay).isBetween(100L, 200L);
    }
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
