package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_AVAILABLE;

import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.WorkerSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** The worker's ConfigMap, Secret and Deployment, applied and compared with what runs (WorkerAvailable). */
final class WorkerDeploymentStep {
  private final ReconcilerSettings settings;
  private final OwnedResources owned;
  private final Supplier<OwnedCaches> caches;

  WorkerDeploymentStep(ReconcilerSettings settings, OwnedResources owned, Supplier<OwnedCaches> caches) {
    this.settings = settings;
    this.owned = owned;
    this.caches = caches;
  }

  boolean ensure(SourceRun run) {
    SourceDatabaseSpec spec = run.source.getSpec();
    WorkerSpec worker = spec.worker == null ? new WorkerSpec() : spec.worker;
    String image = worker.image != null ? worker.image : settings.workerImage();
    int port = worker.metricsPort != null ? worker.metricsPort : WorkerResources.DEFAULT_METRICS_PORT;
    WorkerResources.Inputs inputs = new WorkerResources.Inputs(image, worker.imagePullPolicy, worker.resources,
        port, run.workerSource, run.destination, run.slot, run.publication, run.tracking.ignoreColumns(),
        WorkerResources.Behaviour.of(worker), run.workerTunnel, WorkerResources.podSettings(settings.workerPodDefaults(), worker), settings.workerLogFormat(),
        WorkerResources.Store.from(spec.destination));
    String yaml = WorkerResources.workerYaml(inputs);
    var configMap = owned.apply(run.source, WorkerResources.configMap(run.source, inputs), caches.get().configMaps());
    var secret = owned.applySecret(run.source, WorkerResources.secret(run.source, inputs), caches.get().secrets());
    String configHash = WorkerResources.configHash(yaml, secret.stored());
    // the pod template as it was made before the worker Secret changed: drift is told apart from that roll
    String deployedHash = caches.get().deployments().get(run.namespace(), WorkerResources.deploymentName(run.source))
        .map(d -> d.getSpec().getTemplate().getMetadata().getAnnotations())
        .map(a -> a.get(WorkerResources.CONFIG_HASH)).orElse(null);
    var deployment = owned.apply(run.source, WorkerResources.deployment(run.source, inputs, configHash),
        caches.get().deployments(), deployedHash == null || deployedHash.equals(configHash) ? null
            : WorkerResources.deployment(run.source, inputs, deployedHash));
    String name = deployment.stored().getMetadata().getName();
    List<String> repaired = new ArrayList<>();
    for (var applied : List.of(configMap, secret, deployment)) {
      if (applied.outcome() == OwnedResources.Outcome.REPAIRED) {
        repaired.add(applied.stored().getKind() + " " + applied.stored().getMetadata().getName() + " ("
            + String.join(", ", applied.drifted()) + ")");
      }
    }
    if (!repaired.isEmpty()) {
      run.notes.add(new SourceRun.Note(Reason.DRIFT_REPAIRED, "restored what was changed by hand: "
          + String.join("; ", repaired)));
    }
    if (deployment.outcome() == OwnedResources.Outcome.UPDATED
        || deployment.outcome() == OwnedResources.Outcome.REPAIRED && deployedHash != null
            && !deployedHash.equals(configHash)) {
      run.notes.add(new SourceRun.Note(Reason.WORKER_UPDATED,
          "worker " + name + " rolls to a new configuration or credentials"));
    }
    run.status.workerDeployment = name;
    if (!repaired.isEmpty()) {
      run.conditions.setFalse(WORKER_AVAILABLE, Reason.WORKER_STARTING.camelCase(), "restored " + String.join("; ",
          repaired) + ": waiting for Deployment " + name + " to run the restored configuration");
      return false;
    }
    Deployment current = deployment.stored();
    boolean available = !configMap.changed() && !secret.changed() && !deployment.changed()
        && current.getStatus() != null
        && current.getSpec().getReplicas() != null && current.getSpec().getReplicas() >= 1
        && current.getStatus().getAvailableReplicas() != null && current.getStatus().getAvailableReplicas() >= 1
        && current.getStatus().getObservedGeneration() != null
        && current.getStatus().getObservedGeneration() >= current.getMetadata().getGeneration()
        && (current.getStatus().getUpdatedReplicas() == null || current.getStatus().getUpdatedReplicas() >= 1);
    if (available) {
      run.conditions.setTrue(WORKER_AVAILABLE, Reason.WORKER_AVAILABLE.camelCase(),
          "worker " + name + " is available");
      return true;
    }
    run.conditions.setFalse(WORKER_AVAILABLE, Reason.WORKER_STARTING.camelCase(), "waiting for Deployment "
        + name + " to have an available pod (kubectl describe deploy/" + name + " shows why it is not)");
    return false;
  }

}
