package io.pgtrail.reconciler.trackingpolicy;

import static io.pgtrail.api.v1alpha1.status.ConditionType.PUBLICATION_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SOURCE_RESOLVED;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.TrackingPolicyStatus;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.reconciler.support.ConditionEvents;
import io.pgtrail.reconciler.support.Conditions;
import io.pgtrail.reconciler.support.EventRecorder;
import io.pgtrail.reconciler.support.OperatorMetrics;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import io.pgtrail.reconciler.support.StatusWriter;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reports a TrackingPolicy's state. The policy's effect (publication, worker ignore list) is applied by
 * the SourceDatabase reconciler, which watches policies; this one resolves the source, validates the
 * spec and lists the tables the policy covers once the source has applied this generation.
 */
@ControllerConfiguration(name = TrackingPolicyReconciler.NAME)
public final class TrackingPolicyReconciler implements Reconciler<TrackingPolicy> {
  public static final String NAME = "trackingpolicy";
  static final String SOURCE_INDEX = "policy-by-source";
  private static final int MAX_LISTED_TABLES = 500;

  private final KubernetesClient client;
  private final ReconcilerSettings settings;
  private final ConditionEvents conditionEvents;
  private final OperatorMetrics metrics;

  public TrackingPolicyReconciler(KubernetesClient client, ReconcilerSettings settings, OperatorMetrics metrics) {
    this.client = client;
    this.settings = settings;
    this.metrics = metrics;
    this.conditionEvents = new ConditionEvents(new EventRecorder(client),
        Set.of(Reason.SOURCE_NOT_READY.camelCase(), Reason.WAITING.camelCase()));
  }

  @Override
  public UpdateControl<TrackingPolicy> reconcile(TrackingPolicy policy, Context<TrackingPolicy> context) {
    long started = System.nanoTime();
    TrackingPolicyStatus previous = policy.getStatus() == null ? new TrackingPolicyStatus() : policy.getStatus();
    Conditions conditions = new Conditions(previous.conditions, policy.getMetadata().getGeneration(), settings.clock());
    TrackingPolicyStatus status = new TrackingPolicyStatus();
    boolean settled = evaluate(policy, context, conditions, status);
    status.observedGeneration = policy.getMetadata().getGeneration();
    status.conditions = conditions.list();
    StatusWriter.writeIfChanged(client, policy, status, TrackingPolicy.class);
    conditionEvents.emit(policy, previous.conditions, conditions);
    metrics.reconciled(NAME, System.nanoTime() - started);
    // a source event re-triggers us; the reschedule is only a safety net
    return UpdateControl.<TrackingPolicy>noUpdate()
        .rescheduleAfter(settled ? settings.resyncInterval() : settings.retryInterval());
  }

  private boolean evaluate(TrackingPolicy policy, Context<TrackingPolicy> context, Conditions conditions,
      TrackingPolicyStatus status) {
    PolicyScope scope;
    try {
      scope = PolicyScope.parse(policy.getMetadata().getName(), policy.getSpec());
    } catch (IllegalArgumentException e) {
      conditions.setUnknown(SOURCE_RESOLVED, Reason.INVALID_SPEC.camelCase(), "waiting for a valid spec");
      conditions.setFalse(READY, Reason.INVALID_SPEC.camelCase(), e.getMessage());
      return true;
    }
    String sourceName = policy.getSpec().sourceRef.name;
    Optional<SourceDatabase> source = context.getSecondaryResource(SourceDatabase.class);
    if (source.isEmpty()) {
      conditions.setFalse(SOURCE_RESOLVED, Reason.SOURCE_NOT_FOUND.camelCase(), "SourceDatabase " + sourceName
          + " does not exist in namespace " + policy.getMetadata().getNamespace()
          + ": create it or fix spec.sourceRef.name");
      conditions.setFalse(READY, Reason.SOURCE_NOT_FOUND.camelCase(), "SourceResolved: SourceDatabase " + sourceName
          + " not found");
      return false;
    }
    conditions.setTrue(SOURCE_RESOLVED, Reason.SOURCE_RESOLVED.camelCase(), "SourceDatabase " + sourceName);
    SourceDatabaseStatus sourceStatus = source.get().getStatus();
    boolean applied = sourceStatus != null && sourceStatus.appliedPolicies != null
        && sourceStatus.appliedPolicies.stream().anyMatch(a -> policy.getMetadata().getName().equals(a.name)
            && Objects.equals(policy.getMetadata().getGeneration(), a.generation));
    boolean publicationReady = sourceStatus != null && Conditions.isTrue(sourceStatus.conditions, PUBLICATION_READY);
    if (applied && publicationReady) {
      List<String> tables = sourceStatus.trackedTables == null ? List.of() : sourceStatus.trackedTables.stream()
          .map(t -> QualifiedName.parse(t, PolicyScope.DEFAULT_SCHEMA))
          .filter(scope::covers)
          .map(QualifiedName::toString)
          .collect(Collectors.toList());
      status.trackedTableCount = tables.size();
      status.trackedTables = tables.size() > MAX_LISTED_TABLES ? tables.subList(0, MAX_LISTED_TABLES) : tables;
      conditions.setTrue(READY, Reason.READY.camelCase(), "publication " + sourceStatus.publicationName
          + " includes this policy's " + tables.size() + " table(s)");
      return true;
    }
    Optional<Condition> blocker = sourceStatus == null ? Optional.empty()
        : Conditions.find(sourceStatus.conditions, publicationReady ? READY : PUBLICATION_READY);
    conditions.setFalse(READY, Reason.SOURCE_NOT_READY.camelCase(), "waiting for SourceDatabase " + sourceName
        + " to apply this policy" + blocker.map(c -> " (" + c.getType() + " " + c.getReason() + ": " + c.getMessage()
        + ")").orElse(""));
    return false;
  }

  @Override
  public List<EventSource<?, TrackingPolicy>> prepareEventSources(EventSourceContext<TrackingPolicy> context) {
    context.getPrimaryCache().addIndexer(SOURCE_INDEX, policy -> policy.getSpec() == null
        || policy.getSpec().sourceRef == null ? List.of()
        : List.of(policy.getMetadata().getNamespace() + "/" + policy.getSpec().sourceRef.name));
    var sources = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(SourceDatabase.class, TrackingPolicy.class)
            .withName("sourcedatabases")
            .withSecondaryToPrimaryMapper((SourceDatabase source) -> context.getPrimaryCache()
                .byIndex(SOURCE_INDEX, source.getMetadata().getNamespace() + "/" + source.getMetadata().getName())
                .stream().map(ResourceID::fromResource).collect(Collectors.toSet()))
            .withPrimaryToSecondaryMapper((TrackingPolicy policy) -> policy.getSpec() == null
                || policy.getSpec().sourceRef == null ? Set.of()
                : Set.of(new ResourceID(policy.getSpec().sourceRef.name, policy.getMetadata().getNamespace())))
            .withNamespacesInheritedFromController()
            .build(),
        context);
    return List.of(sources);
  }
}
