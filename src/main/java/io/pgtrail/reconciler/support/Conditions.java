package io.pgtrail.reconciler.support;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A fresh set of conditions, one per type, in the order the types were first set. A condition keeps
 * its previous {@code lastTransitionTime} unless its status flips; every condition carries the
 * generation it was computed for.
 */
public final class Conditions {
  public enum Status {
    TRUE("True"), FALSE("False"), UNKNOWN("Unknown");

    final String text;

    Status(String text) {
      this.text = text;
    }

    public static Status of(boolean value) {
      return value ? TRUE : FALSE;
    }
  }

  private final Map<String, Condition> previous = new LinkedHashMap<>();
  private final Map<String, Condition> current = new LinkedHashMap<>();
  private final long generation;
  private final Clock clock;

  public Conditions(List<Condition> previousConditions, Long generation, Clock clock) {
    if (previousConditions != null) {
      for (Condition c : previousConditions) {
        previous.putIfAbsent(c.getType(), c);
      }
    }
    this.generation = generation == null ? 0L : generation;
    this.clock = clock;
  }

  public Conditions set(String type, Status status, String reason, String message) {
    Condition before = previous.get(type);
    String transition = before != null && Objects.equals(before.getStatus(), status.text)
        && before.getLastTransitionTime() != null
        ? before.getLastTransitionTime()
        : Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    current.put(type, new ConditionBuilder()
        .withType(type)
        .withStatus(status.text)
        .withReason(reason)
        .withMessage(message == null ? "" : message)
        .withObservedGeneration(generation)
        .withLastTransitionTime(transition)
        .build());
    return this;
  }

  public Conditions setTrue(String type, String reason, String message) {
    return set(type, Status.TRUE, reason, message);
  }

  public Conditions setFalse(String type, String reason, String message) {
    return set(type, Status.FALSE, reason, message);
  }

  public Conditions setUnknown(String type, String reason, String message) {
    return set(type, Status.UNKNOWN, reason, message);
  }

  public boolean isSet(String type) {
    return current.containsKey(type);
  }

  public boolean isTrue(String type) {
    return current.containsKey(type) && "True".equals(current.get(type).getStatus());
  }

  public Optional<Condition> get(String type) {
    return Optional.ofNullable(current.get(type));
  }

  public Optional<Condition> previous(String type) {
    return Optional.ofNullable(previous.get(type));
  }

  /** The first condition among {@code types} that is not True, in the given order. */
  public Optional<Condition> firstNotTrue(List<String> types) {
    return types.stream().map(current::get).filter(Objects::nonNull)
        .filter(c -> !"True".equals(c.getStatus())).findFirst();
  }

  public List<Condition> list() {
    return new ArrayList<>(current.values());
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    return conditions == null ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  public static boolean isTrue(List<Condition> conditions, String type) {
    return find(conditions, type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }
}
