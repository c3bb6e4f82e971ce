package io.pgtrail.reconciler.support;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.pgtrail.api.v1alpha1.status.ConditionType;
import io.pgtrail.api.v1alpha1.status.Reason;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * Turns condition transitions into Events: a Warning once when a condition becomes False (or fails for a
 * new reason), a Normal one when Ready becomes True. A condition that stays False with the same reason
 * emits nothing, so a failing resource does not flood the event stream.
 */
public final class ConditionEvents {
  private final EventRecorder events;
  /** Reasons that describe progress, not failure: no Warning for them. */
  private final Set<String> progressReasons;

  public ConditionEvents(EventRecorder events, Set<String> progressReasons) {
    this.events = events;
    this.progressReasons = progressReasons;
  }

  public void emit(HasMetadata about, List<Condition> before, Conditions after) {
    for (Condition now : after.list()) {
      Optional<Condition> was = Conditions.find(before, now.getType());
      boolean flipped = was.map(w -> !Objects.equals(w.getStatus(), now.getStatus())).orElse(true);
      boolean newReason = was.map(w -> !Objects.equals(w.getReason(), now.getReason())).orElse(true);
      if ("False".equals(now.getStatus()) && (flipped || newReason) && !progressReasons.contains(now.getReason())
          && !ConditionType.READY.equals(now.getType())) {
        events.record(about, EventRecorder.Type.Warning, now.getReason(), now.getType() + ": " + now.getMessage());
      }
      if (ConditionType.READY.equals(now.getType()) && "True".equals(now.getStatus()) && flipped) {
        events.normal(about, Reason.READY, now.getMessage());
      }
      if (ConditionType.READY.equals(now.getType()) && "False".equals(now.getStatus()) && flipped
          && was.isPresent() && "True".equals(was.get().getStatus())
          && progressReasons.contains(now.getReason())) {
        events.record(about, EventRecorder.Type.Normal, now.getReason(), now.getMessage());
      }
    }
  }
}
