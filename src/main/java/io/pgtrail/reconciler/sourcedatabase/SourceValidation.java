package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.READY;

import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.Invalid;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.ResolvedSource;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.Result;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.Valid;

/** The validate step: {@link SourceSpecValidator}'s answer as the run's names, or Ready=False InvalidSpec. */
final class SourceValidation {
  private SourceValidation() {}

  static boolean validate(SourceRun run) {
    Result result = SourceSpecValidator.validate(run.source.getSpec(), run.namespace(), run.name(),
        run.source.getStatus());
    if (result instanceof Invalid invalid) {
      run.conditions.setFalse(READY, Reason.INVALID_SPEC.camelCase(), invalid.message());
      SourceSummary.waitForAll(run, Reason.INVALID_SPEC, "a valid spec");
      return false;
    }
    ResolvedSource resolved = ((Valid) result).source();
    run.provider = resolved.provider();
    run.publication = resolved.publication();
    run.slot = resolved.slot();
    run.managedRoleName = resolved.managedRoleName();
    return true;
  }
}
