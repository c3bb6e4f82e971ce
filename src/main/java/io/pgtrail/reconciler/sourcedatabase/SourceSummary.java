package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CONNECTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.CREDENTIALS_RESOLVED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.PUBLICATION_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.REPLICATION_PERMITTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_HEALTHY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WAL_LEVEL_LOGICAL;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_AVAILABLE;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_STREAMING;

import io.pgtrail.api.v1alpha1.status.Reason;
import java.util.List;

/** After the chain: conditions it did not reach become Unknown, and Ready summarizes the rest. */
final class SourceSummary {
  /** Step conditions in chain order; Ready summarizes them. */
  static final List<String> STEP_CONDITIONS = List.of(CREDENTIALS_RESOLVED, CONNECTED, WAL_LEVEL_LOGICAL,
      REPLICATION_PERMITTED, PUBLICATION_READY, SLOT_READY, SLOT_HEALTHY, WORKER_AVAILABLE);

  private SourceSummary() {}

  /** Every step condition not set yet waits for {@code what}. */
  static void waitForAll(SourceRun run, Reason reason, String what) {
    for (String type : STEP_CONDITIONS) {
      if (!run.conditions.isSet(type)) {
        run.conditions.setUnknown(type, reason.camelCase(), "waiting for " + what);
      }
    }
  }

  static void summarize(SourceRun run) {
    for (String type : STEP_CONDITIONS) {
      if (!run.conditions.isSet(type)) {
        String blocker = run.conditions.firstNotTrue(STEP_CONDITIONS)
            .map(c -> c.getType()).orElse("an earlier step");
        run.conditions.setUnknown(type, Reason.WAITING.camelCase(), "waiting for " + blocker);
      }
    }
    if (!run.conditions.isSet(WORKER_STREAMING)) {
      run.conditions.setUnknown(WORKER_STREAMING, Reason.WAITING.camelCase(), "waiting for a connection to the source");
    }
    if (run.conditions.isSet(READY)) {
      return; // validation already decided
    }
    var blocker = run.conditions.firstNotTrue(STEP_CONDITIONS);
    var streaming = run.conditions.get(WORKER_STREAMING).filter(c -> "False".equals(c.getStatus()));
    if (blocker.isEmpty() && streaming.isPresent()) {
      // the pipeline is set up but the trail does not move: not Ready (Unknown, no report yet, does not block)
      run.conditions.setFalse(READY, streaming.get().getReason(), WORKER_STREAMING + ": " + streaming.get().getMessage());
    } else if (blocker.isEmpty()) {
      run.conditions.setTrue(READY, Reason.READY.camelCase(), "tracking " + run.status.trackedTableCount
          + " table(s) through slot " + run.slot + "; worker available");
    } else {
      run.conditions.setFalse(READY, blocker.get().getReason(), blocker.get().getType() + ": " + blocker.get().getMessage());
    }
  }
}
