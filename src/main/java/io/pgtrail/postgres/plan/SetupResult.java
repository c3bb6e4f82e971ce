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

}
