package io.pgtrail.reconciler.sourcedatabase;

import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.reconciler.trackingpolicy.PolicyScope;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** The union of all valid TrackingPolicies that point at a source (invalid ones report themselves). */
final class PolicySelection {
  private PolicySelection() {}

  static void resolve(SourceRun run) {
    List<PolicyScope> scopes = new ArrayList<>();
    List<SourceDatabaseStatus.AppliedPolicy> applied = new ArrayList<>();
    for (TrackingPolicy policy : run.policies.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        // the event source also maps a policy to sources that still reflect it (it may have moved away)
        .filter(p -> p.getSpec() != null && p.getSpec().sourceRef != null && run.name().equals(p.getSpec().sourceRef.name))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList()) {
      try {
        scopes.add(PolicyScope.parse(policy.getMetadata().getName(), policy.getSpec()));
        applied.add(new SourceDatabaseStatus.AppliedPolicy(policy.getMetadata().getName(),
            policy.getMetadata().getGeneration()));
      } catch (IllegalArgumentException invalid) {
        // the TrackingPolicy reconciler reports it as InvalidSpec on the policy itself
      }
    }
    run.tracking = TrackingUnion.of(scopes);
    run.status.appliedPolicies = applied;
  }
}
