package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.QualifiedName;
import java.util.List;

/**
 * What one setup run did: the changes it made (none when all was in place), the tables now tracked, and
 * the warnings of the run (tables left out of tracking and why, with the fix), for status and events.
 */
public record SetupResult(List<String> executedSteps, List<QualifiedName> trackedTables, List<String> warnings) {
  public SetupResult {
    executedSteps = List.copyOf(executedSteps);
    trackedTables = List.copyOf(trackedTables);
    warnings = List.copyOf(warnings);
  }

  /** True when this run created the replication slot (it did not exist when the plan's slot step ran). */
  public boolean createdSlot() {
    return executedSteps.stream().anyMatch(step -> step.contains("pg_create_logical_replication_slot("));
  }
}
