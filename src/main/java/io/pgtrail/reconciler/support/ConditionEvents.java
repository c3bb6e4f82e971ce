package io.pgtrail.reconciler.support;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.pgtrail.api.v1alpha1.status.ConditionType;
import io.pgtrail.api.v1alpha1.status.Reason;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns condition transitions into Events: a Warning once when a condition becomes False (or fails for a
 * new reason), a Normal one when Ready becomes True. A condition that stays False with the same reason
 * emits nothing, so a failing resource does not flood the event stream. Ready carries its own Warning
 * only when no step condition explains the failure (an invalid spec).
 *
 * <p>What was last reported is remembered per resource, because a reconcile can start before the
 * informer cache shows the status the previous one wrote; after a restart the stored status decides.
 */
public final class ConditionEvents {
  private final EventRecorder events;
  /** Reasons that describe progress, not failure: no Warning for them. */
  private final Set<String> progressReasons;
  private final Map<String, String> lastReported = new ConcurrentHashMap<>();

  public ConditionEvents(EventRecorder events, Set<String> progressReasons) {
    this.events = events;
    this.progressReasons = progressReasons;
  }

  public void emit(HasMetadata about, List<Condition> before, Conditions after) {
    String uid = about.getMetadata().getUid();
    boolean stepFailed = after.list().stream()
        .anyMatch(c -> !ConditionType.READY.equals(c.getType()) && "False".equals(c.getStatus()));
    for (Condition now : after.list()) {
      String key = uid + "/" + now.getType();
      String state = now.getStatus() + "/" + now.getReason();
      String previous = lastReported.computeIfAbsent(key, k -> Conditions.find(before, now.getType())
          .map(c -> c.getStatus() + "/" + c.getReason()).orElse(""));
      lastReported.put(key, state);
      if (Objects.equals(previous, state)) {
        continue;
      }
      boolean wasTrue = previous.startsWith("True/");
      boolean isReady = ConditionType.READY.equals(now.getType());
      if ("False".equals(now.getStatus()) && !progressReasons.contains(now.getReason()) && (!isReady || !stepFailed)) {
        events.record(about, EventRecorder.Type.Warning, now.getReason(), now.getType() + ": " + now.getMessage());
      } else if (isReady && "True".equals(now.getStatus())) {
        events.normal(about, Reason.READY, now.getMessage());
      } else if (isReady && "False".equals(now.getStatus()) && wasTrue) {
        events.record(about, EventRecorder.Type.Normal, now.getReason(), now.getMessage());
      }
    }
  }

  /** Drops what is remembered about a deleted resource. */
  public void forget(HasMetadata about) {
    String prefix = about.getMetadata().getUid() + "/";
    lastReported.keySet().removeIf(k -> k.startsWith(prefix));
  }
}
