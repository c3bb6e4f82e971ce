package io.pgtrail.postgres.plan;

import java.util.List;

/** What teardown executed, and what it left in place with the reason. */
public record TeardownResult(List<String> executedSteps, List<String> skipped) {
  public TeardownResult {
    executedSteps = List.copyOf(executedSteps);
    skipped = List.copyOf(skipped);
  }
}
