package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CONNECTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.CREDENTIALS_RESOLVED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.PUBLICATION_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_HEALTHY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_AVAILABLE;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_STREAMING;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.Mappers;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SshHostKeyPolicySpec;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.status.ConditionType;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.reconciler.support.ConditionEvents;
import io.pgtrail.reconciler.support.Conditions;
import io.pgtrail.reconciler.support.EventRecorder;
import io.pgtrail.reconciler.support.OperatorMetrics;
import io.pgtrail.reconciler.support.OwnStatusWrites;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import io.pgtrail.reconciler.support.StatusWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reconciles a SourceDatabase: validate, resolve policies and credentials, connect and preflight,
 * publication and slot, worker, summary. Status is rebuilt on each run and written only on change.
 */
@ControllerConfiguration(name = SourceDatabaseReconciler.NAME, finalizerName = SourceDatabaseReconciler.FINALIZER)
public final class SourceDatabaseReconciler implements Reconciler<SourceDatabase>, Cleaner<SourceDatabase> {
  public static final String NAME = "sourcedatabase";
  public static final String FINALIZER = "pgtrail.io/cleanup";
  static final String SECRET_INDEX = "source-by-secret";
  static final String APPLIED_POLICY_INDEX = "source-by-applied-policy";


  private final KubernetesClient client;
  private final ReconcilerSettings settings;
  private final SourceAccess access;
  private final OwnedResources owned;
  private final WorkerProgress progress;
  private final SourceTunnel tunnel;
  private final StepChain chain;
  private volatile OwnedCaches caches;
  private final SourceCleanup cleanup;
  private final EventRecorder events;
  private final ConditionEvents conditionEvents;
  private final OperatorMetrics metrics;
  private final OwnStatusWrites<SourceDatabaseStatus> statusWrites = new OwnStatusWrites<>();

  public SourceDatabaseReconciler(KubernetesClient client, ReconcilerSettings settings, OperatorMetrics metrics) {
    this.client = client;
    this.settings = settings;
    this.metrics = metrics;
    this.events = new EventRecorder(client);
    this.conditionEvents = new ConditionEvents(events, Set.of(Reason.WORKER_STARTING.camelCase(),
        Reason.WAITING.camelCase(), Reason.RECONCILING.camelCase(), Reason.WORKER_NOT_REPORTING.camelCase()));
    this.access = new SourceAccess(client);
    this.owned = new OwnedResources(client);
    this.caches = OwnedCaches.uncached(client);
    this.progress = new WorkerProgress(settings.clock(), settings.workerStallTimeout());
    this.tunnel = new SourceTunnel(access, owned, () -> caches);
    SourceCredentials credentials = new SourceCredentials(settings, access, owned, () -> caches);
    PostgresSteps postgres = new PostgresSteps(credentials);
    WorkerDeploymentStep worker = new WorkerDeploymentStep(settings, owned, () -> caches);
    this.chain = new StepChain(List.of(
        Step.gate("validate", READY, SourceValidation::validate),
        Step.always("resolvePolicies", READY, PolicySelection::resolve),
        Step.gate("resolveCredentials", CREDENTIALS_RESOLVED, credentials::resolve),
        Step.gate("openTunnel", CONNECTED, tunnel::open),
        Step.gate("connect", CONNECTED, postgres::connect),
        // observe first: slot facts and worker progress whatever the setup steps below say
        Step.always("observeSlot", SLOT_HEALTHY, SlotObservation::observe),
        Step.always("observeWorker", WORKER_STREAMING, progress::observe),
        Step.gate("preflight", CONNECTED, postgres::preflight),
        Step.gate("checkOwnership", PUBLICATION_READY, postgres::checkOwnership),
        Step.gate("ensurePublicationAndSlot", PUBLICATION_READY, postgres::ensurePublicationAndSlot),
        Step.gate("confirmSlot", SLOT_READY, SlotObservation::confirm),
        Step.gate("ensureWorker", WORKER_AVAILABLE, worker::ensure)));
    this.cleanup = new SourceCleanup(client, settings, events, access, tunnel::routeForCleanup);
  }

  /**
   * Releases what the reconciler holds outside Kubernetes: the SSH tunnels and the CA certificate directory.
   * Called after JOSDK has stopped, so no reconcile is using a tunnel any more.
   */
  public void close() {
    try {
      tunnel.closeAll();
    } finally {
      access.close();
    }
  }

  @Override
  public UpdateControl<SourceDatabase> reconcile(SourceDatabase source, Context<SourceDatabase> context) {
    long started = System.nanoTime();
    SourceDatabaseStatus cached = statusWrites.current(source);
    SourceDatabaseStatus previous = cached == null ? new SourceDatabaseStatus() : cached;
    source.setStatus(cached);
    Conditions conditions = new Conditions(previous.conditions, source.getMetadata().getGeneration(), settings.clock());
    boolean healthy;
    try (SourceRun run = new SourceRun(source, conditions, context.getSecondaryResources(TrackingPolicy.class))) {
      chain.run(run);
      SourceSummary.summarize(run);
      run.status.observedGeneration = source.getMetadata().getGeneration();
      run.status.conditions = conditions.list();
      carryForward(previous, run);
      if (StatusWriter.writeIfChanged(client, source, run.status, SourceDatabase.class)) {
        statusWrites.wrote(source, run.status);
      }
      metrics.sourceFacts(source.getMetadata().getNamespace(), source.getMetadata().getName(),
          run.status.slot == null ? null : run.status.slot.retainedWalBytes,
          conditions.get(ConditionType.WORKER_STREAMING).map(c -> c.getStatus()).orElse("Unknown"));
      conditionEvents.emit(source, previous.conditions, conditions);
      for (SourceRun.Note note : run.notes) {
        events.normal(source, note.reason(), note.message());
      }
      for (SourceRun.Note warning : run.warnings) {
        events.warning(source, warning.reason(), warning.message());
      }
      healthy = conditions.isTrue(ConditionType.READY);
    } finally {
      metrics.reconciled(NAME, System.nanoTime() - started);
    }
    metrics.sourceReady(source.getMetadata().getNamespace(), source.getMetadata().getName(), healthy);
    Duration next = healthy ? settings.resyncInterval() : settings.retryInterval();
    return UpdateControl.<SourceDatabase>noUpdate().rescheduleAfter(next);
  }

  /** Facts that only a successful setup refreshes stay visible while a later run fails. */
  private static void carryForward(SourceDatabaseStatus previous, SourceRun run) {
    SourceDatabaseStatus s = run.status;
    if (s.publicationName == null) {
      s.publicationName = previous.publicationName;
      s.slotName = previous.slotName;
      s.replicationUser = previous.replicationUser;
      s.managedRoleSecret = s.managedRoleSecret == null ? previous.managedRoleSecret : s.managedRoleSecret;
      s.trackedTableCount = previous.trackedTableCount;
      s.trackedTables = previous.trackedTables;
      if (s.appliedPolicies != null && !run.conditions.isTrue(PUBLICATION_READY)) {
        s.appliedPolicies = previous.appliedPolicies;
      }
    }
    if (s.serverVersion == null) {
      s.serverVersion = previous.serverVersion;
    }
    if (s.sshPublicKey == null && run.source.getSpec() != null && run.source.getSpec().sshTunnel != null) {
      s.sshPublicKey = previous.sshPublicKey;
    }
    if (s.sshHostKeyFingerprint == null && run.source.getSpec() != null && run.source.getSpec().sshTunnel != null
        && run.source.getSpec().sshTunnel.hostKeyPolicy == SshHostKeyPolicySpec.ACCEPT_NEW) {
      // the key pinned on first use is memory: a run that failed before or while opening the tunnel must not
      // forget it, or the next run would trust whatever key the jump host offers then
      s.sshHostKeyFingerprint = previous.sshHostKeyFingerprint;
    }
    if (s.slot == null && run.observedSlot == null && run.connection == null) {
      s.slot = previous.slot; // not observed this time (no connection): the last facts stay visible
    }
    if (s.worker == null && !run.conditions.isSet(ConditionType.WORKER_STREAMING)) {
      s.worker = previous.worker;
    }
    if (s.workerDeployment == null) {
      s.workerDeployment = previous.workerDeployment;
    }
  }

  @Override
  public DeleteControl cleanup(SourceDatabase source, Context<SourceDatabase> context) {
    metrics.forgetSource(source.getMetadata().getNamespace(), source.getMetadata().getName());
    source.setStatus(statusWrites.current(source)); // the slot and publication names are memory
    DeleteControl control = cleanup.run(source, context);
    if (control.isRemoveFinalizer()) {
      conditionEvents.forget(source);
      tunnel.release(source);
      progress.forget(source.getMetadata().getUid());
      statusWrites.forget(source);
      owned.forget(source);
    }
    return control;
  }

  @Override
  public List<EventSource<?, SourceDatabase>> prepareEventSources(EventSourceContext<SourceDatabase> context) {
    context.getPrimaryCache().addIndexer(SECRET_INDEX, SourceDatabaseReconciler::referencedSecrets);
    context.getPrimaryCache().addIndexer(APPLIED_POLICY_INDEX, SourceDatabaseReconciler::appliedPolicies);
    var policies = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(TrackingPolicy.class, SourceDatabase.class)
            .withName("trackingpolicies")
            .withSecondaryToPrimaryMapper(policy -> sourcesOf(context, policy))
            .withNamespacesInheritedFromController()
            .build(),
        context);
    var deployments = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(Deployment.class, SourceDatabase.class)
            .withName("worker-deployments")
            .withLabelSelector(OwnedResources.MANAGED_BY + "=" + OwnedResources.MANAGER)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(SourceDatabase.class))
            .withNamespacesInheritedFromController()
            .build(),
        context);
    var configMaps = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(ConfigMap.class, SourceDatabase.class)
            .withName("worker-configmaps")
            .withLabelSelector(OwnedResources.MANAGED_BY + "=" + OwnedResources.MANAGER)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(SourceDatabase.class))
            .withNamespacesInheritedFromController()
            .build(),
        context);
    // only Secrets pgtrail needs: those it owns (by label), and referenced ones their owner labelled
    // with pgtrail.io/watch (any value); an unlabelled referenced Secret is read with a GET and rechecked at each resync
    var ownedSecrets = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(Secret.class, SourceDatabase.class)
            .withName("owned-secrets")
            .withLabelSelector(OwnedResources.MANAGED_BY + "=" + OwnedResources.MANAGER)
            .withSecondaryToPrimaryMapper(Mappers.fromOwnerReferences(SourceDatabase.class))
            .withNamespacesInheritedFromController()
            .build(),
        context);
    var watchedSecrets = new InformerEventSource<>(
        InformerEventSourceConfiguration.from(Secret.class, SourceDatabase.class)
            .withName("watched-secrets")
            .withLabelSelector(SourceAccess.WATCH_LABEL)
            .withSecondaryToPrimaryMapper(secret -> sourcesUsing(context, secret))
            .withNamespacesInheritedFromController()
            .build(),
        context);
    caches = new OwnedCaches(OwnedResources.cacheOf(deployments), OwnedResources.cacheOf(configMaps),
        OwnedResources.cacheOf(ownedSecrets));
    access.useCache((namespace, name) -> ownedSecrets.get(new ResourceID(name, namespace))
        .or(() -> watchedSecrets.get(new ResourceID(name, namespace))));
    cleanup.useDeployments(OwnedResources.cacheOf(deployments));
    return List.of(policies, deployments, configMaps, ownedSecrets, watchedSecrets);
  }

  /**
   * The source a policy points at, and any source whose publication still reflects it: a policy moved
   * to another source (or deleted) shrinks the old one at once, not at its next resync.
   */
  private static Set<ResourceID> sourcesOf(EventSourceContext<SourceDatabase> context, TrackingPolicy policy) {
    Set<ResourceID> ids = new HashSet<>();
    if (policy.getSpec() != null && policy.getSpec().sourceRef != null) {
      ids.add(new ResourceID(policy.getSpec().sourceRef.name, policy.getMetadata().getNamespace()));
    }
    String key = policy.getMetadata().getNamespace() + "/" + policy.getMetadata().getName();
    for (SourceDatabase source : context.getPrimaryCache().byIndex(APPLIED_POLICY_INDEX, key)) {
      ids.add(ResourceID.fromResource(source));
    }
    return ids;
  }

  static List<String> appliedPolicies(SourceDatabase source) {
    if (source.getStatus() == null || source.getStatus().appliedPolicies == null) {
      return List.of();
    }
    return source.getStatus().appliedPolicies.stream()
        .map(p -> source.getMetadata().getNamespace() + "/" + p.name).toList();
  }

  /** Sources that read the Secret (credentials, CA certificates): a rotation re-verifies them. */
  private static Set<ResourceID> sourcesUsing(EventSourceContext<SourceDatabase> context, Secret secret) {
    Set<ResourceID> ids = new HashSet<>();
    String key = secret.getMetadata().getNamespace() + "/" + secret.getMetadata().getName();
    for (SourceDatabase source : context.getPrimaryCache().byIndex(SECRET_INDEX, key)) {
      ids.add(ResourceID.fromResource(source));
    }
    return ids;
  }

  static List<String> referencedSecrets(SourceDatabase source) {
    List<String> keys = new ArrayList<>();
    SourceDatabaseSpec spec = source.getSpec();
    String ns = source.getMetadata().getNamespace() + "/";
    if (spec == null) {
      return keys;
    }
    if (spec.connection != null && spec.connection.credentialsSecretRef != null) {
      keys.add(ns + spec.connection.credentialsSecretRef.name);
    }
    if (spec.connection != null && spec.connection.caCertSecretRef != null) {
      keys.add(ns + spec.connection.caCertSecretRef.name);
    }
    if (spec.destination != null && spec.destination.credentialsSecretRef != null) {
      keys.add(ns + spec.destination.credentialsSecretRef.name);
    }
    if (spec.destination != null && spec.destination.caCertSecretRef != null) {
      keys.add(ns + spec.destination.caCertSecretRef.name);
    }
    if (spec.sshTunnel != null && spec.sshTunnel.knownHostsSecretRef != null) {
      keys.add(ns + spec.sshTunnel.knownHostsSecretRef.name);
    }
    return keys;
  }

}
