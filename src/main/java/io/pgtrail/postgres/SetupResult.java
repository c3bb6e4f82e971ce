package io.pgtrail.postgres;

import java.util.List;

/** What one setup run did: the statements it executed (none when all was in place) and the tracked tables. */
public record SetupResult(List<String> executedSteps, List<QualifiedName> trackedTables) {
  public SetupResult {
    executedSteps = List.copyOf(executedSteps);
    trackedTables = List.copyOf(trackedTables);
  }

  public boolean changedAnything() {
    return !executedSteps.isEmpty();
  }
}
