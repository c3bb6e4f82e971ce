package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.pgtrail.api.v1alpha1.ReclaimPolicy;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.OwnerMarker;
import io.pgtrail.postgres.plan.Ownership;
import io.pgtrail.postgres.plan.TeardownExecutor;
import io.pgtrail.postgres.plan.TeardownRequest;
import io.pgtrail.postgres.plan.TeardownResult;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.reconciler.support.EventRecorder;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletion: stop the worker, wait until it has stopped, then drop what pgtrail provably owns in PostgreSQL.
 * The worker has stopped when its Deployment is gone (deleted in the foreground, so in a cluster that is
 * when its pods are gone) and the slot is no longer active; until then the deletion is rescheduled, never
 * slept on. With reclaimPolicy retain the slot and publication stay (an Event says so); with delete,
 * success is reported only once they are verifiably gone. A source that stays unreachable, or a worker
 * that never lets go of the slot, does not block deletion forever: after the cleanup timeout, or at
 * once with the annotation {@value #SKIP_CLEANUP}=true, the finalizer is removed and a Warning lists
 * exactly what was left behind and how to remove it.
 */
final class SourceCleanup {
  static final String SKIP_CLEANUP = "pgtrail.io/skip-cleanup";
  /** The longest wait between two looks at a stopping worker. */
  static final Duration WORKER_POLL = Duration.ofSeconds(2);
  private static final Logger LOG = LoggerFactory.getLogger(SourceCleanup.class);

  private final KubernetesClient client;
  private final ReconcilerSettings settings;
  private final EventRecorder events;
  private final SourceAccess access;
  private final Route route;
  private volatile OwnedResources.Cache<Deployment> deployments;
  /** The last failure reported per source uid, so a Warning is recorded once per distinct failure. */
  private final Map<String, String> reportedFailures = new ConcurrentHashMap<>();

  /** Where cleanup reaches the database: directly, or through the source's SSH tunnel. */
  interface Route {
    ConnectionSettings to(SourceDatabase source, ConnectionSettings admin) throws Exception;
  }

  /** Cleanup cannot finish yet; the message says why. */
  private static final class NotYet extends Exception {
    final Reason reason;

    NotYet(Reason reason, String message) {
      super(message);
      this.reason = reason;
    }
  }

  SourceCleanup(KubernetesClient client, ReconcilerSettings settings, EventRecorder events, SourceAccess access,
      Route route) {
    this.client = client;
    this.settings = settings;
    this.events = events;
    this.access = access;
    this.route = route;
    this.deployments = OwnedResources.uncached(client, Deployment.class);
  }

  void useDeployments(OwnedResources.Cache<Deployment> cache) {
    this.deployments = cache;
  }

  DeleteControl run(SourceDatabase source, Context<SourceDatabase> context) {
    boolean workerGone = stopWorker(source);
    SourceDatabaseStatus status = source.getStatus();
    boolean skip = "true".equals(annotation(source, SKIP_CLEANUP));
    if (status == null || status.publicationName == null) {
      if (!workerGone && !skip && !timedOut(source)) {
        return waitFor(source, Reason.WAITING_FOR_WORKER, "waiting for worker Deployment "
            + WorkerResources.deploymentName(source) + " to be gone");
      }
      events.normal(source, Reason.CLEANUP_DONE, "nothing was created in PostgreSQL; worker removed");
      return done(source);
    }
    if (skip) {
      events.warning(source, Reason.CLEANUP_ABANDONED, SKIP_CLEANUP + "=true: PostgreSQL was not touched; left: "
          + leftovers(status, source.getSpec().reclaimPolicy));
      return done(source);
    }
    try {
      if (!workerGone) {
        throw new NotYet(Reason.WAITING_FOR_WORKER, "worker Deployment " + WorkerResources.deploymentName(source)
            + " is still stopping");
      }
      TeardownResult result = teardown(source, status);
      if (source.getSpec().reclaimPolicy == ReclaimPolicy.DELETE) {
        events.normal(source, Reason.CLEANUP_DONE, result.executedSteps().isEmpty()
            ? "nothing of pgtrail's was left in PostgreSQL" + skipped(result)
            : "dropped: " + String.join("; ", result.executedSteps()) + skipped(result));
      } else {
        events.normal(source, Reason.RESOURCES_RETAINED, "reclaimPolicy retain: kept slot " + status.slotName
            + " and publication " + status.publicationName + " (drop them with SELECT pg_drop_replication_slot('"
            + status.slotName + "'); DROP PUBLICATION " + status.publicationName + ";)"
            + (result.executedSteps().isEmpty() ? "" : "; removed: " + String.join("; ", result.executedSteps())));
      }
      return done(source);
    } catch (NotYet e) {
      return waitFor(source, e.reason, e.getMessage());
    } catch (Exception e) {
      String message = e instanceof SQLException sql ? sql.getMessage() + " (SQLSTATE " + sql.getSQLState() + ")"
          : e.getMessage();
      return waitFor(source, Reason.CLEANUP_FAILED, "cannot clean up PostgreSQL yet (" + message + ")");
    }
  }

  /**
   * Reschedules a deletion that cannot finish yet (a Warning once per distinct cause); after the cleanup
   * timeout gives up with a Warning that lists what is left and how to remove it.
   */
  private DeleteControl waitFor(SourceDatabase source, Reason reason, String message) {
    SourceDatabaseStatus status = source.getStatus();
    if (timedOut(source)) {
      String left = status == null || status.publicationName == null
          ? "worker Deployment " + WorkerResources.deploymentName(source) + " (kubectl delete deploy/"
              + WorkerResources.deploymentName(source) + ")"
          : leftovers(status, source.getSpec().reclaimPolicy);
      events.warning(source, Reason.CLEANUP_ABANDONED, "gave up after " + settings.cleanupTimeout().toMinutes()
          + " min (" + message + "); left: " + left);
      return done(source);
    }
    if (!message.equals(reportedFailures.put(source.getMetadata().getUid(), message))) {
      String hint = "; deletion completes without cleanup after " + settings.cleanupTimeout().toMinutes()
          + " min or at once with the annotation " + SKIP_CLEANUP + "=true";
      if (reason == Reason.WAITING_FOR_WORKER) {
        events.normal(source, reason, message + hint);
      } else {
        events.warning(source, reason, message + "; retrying" + hint);
      }
    }
    LOG.info("cleanup of {}/{} not finished: {}", source.getMetadata().getNamespace(),
        source.getMetadata().getName(), message);
    Duration next = reason == Reason.WAITING_FOR_WORKER && settings.retryInterval().compareTo(WORKER_POLL) > 0
        ? WORKER_POLL : settings.retryInterval();
    return DeleteControl.noFinalizerRemoval().rescheduleAfter(next.toMillis());
  }

  private boolean timedOut(SourceDatabase source) {
    Instant deletedAt = Instant.parse(source.getMetadata().getDeletionTimestamp());
    return Duration.between(deletedAt, settings.clock().instant()).compareTo(settings.cleanupTimeout()) >= 0;
  }

  /** What pgtrail leaves in PostgreSQL when it gives up, with the statements that remove it. */
  static String leftovers(SourceDatabaseStatus status, ReclaimPolicy policy) {
    String slot = status.slotName;
    String publication = status.publicationName;
    String retained = policy == ReclaimPolicy.DELETE ? "" : " (kept anyway: reclaimPolicy retain)";
    return "replication slot " + slot + retained + " -- SELECT pg_drop_replication_slot('" + slot + "');"
        + " publication " + publication + retained + " -- DROP PUBLICATION " + Identifiers.quote(publication) + ";"
        + " pgtrail's event trigger and context triggers for this publication -- `pgtrail sql teardown` prints"
        + " the statements; the worker's objects in Kubernetes go with the SourceDatabase (owner references)";
  }

  private static String skipped(TeardownResult result) {
    return result.skipped().isEmpty() ? "" : "; left alone: " + String.join("; ", result.skipped());
  }

  private DeleteControl done(SourceDatabase source) {
    reportedFailures.remove(source.getMetadata().getUid());
    return DeleteControl.defaultDelete();
  }

  /**
   * Deletes the worker Deployment in the foreground (it stays, marked deleted, until its pods are gone);
   * true once it no longer exists. Owner references delete the ConfigMap and Secrets with the source.
   */
  private boolean stopWorker(SourceDatabase source) {
    String namespace = source.getMetadata().getNamespace();
    String name = WorkerResources.deploymentName(source);
    var existing = deployments.get(namespace, name);
    if (existing.isEmpty()) {
      // the cache may lag behind a deletion: confirm with the API server before dropping the slot
      return client.apps().deployments().inNamespace(namespace).withName(name).get() == null;
    }
    if (existing.get().getMetadata().getDeletionTimestamp() == null) {
      client.apps().deployments().inNamespace(namespace).withName(name)
          .withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
    }
    return false;
  }

  private TeardownResult teardown(SourceDatabase source, SourceDatabaseStatus status) throws Exception {
    ConnectionSettings admin = route.to(source, access.source(source, settings.connectTimeoutSeconds()).settings());
    try (Connection c = connect(admin)) {
      Optional<OwnerMarker> marker = Ownership.publicationMarker(c, status.publicationName);
      String uid = source.getMetadata().getUid();
      if (marker.isPresent() && !uid.equals(marker.get().ownerId())) {
        return new TeardownResult(java.util.List.of(), java.util.List.of("publication " + status.publicationName
            + " belongs to another owner (" + marker.get().ownerId() + ")"));
      }
      var slot = ReplicationSlots.read(c, status.slotName);
      if (slot.isPresent() && slot.get().active()) {
        throw new NotYet(Reason.WAITING_FOR_WORKER, "replication slot " + status.slotName
            + " is still in use (active_pid streams from it): waiting for the worker to stop");
      }
      boolean drop = source.getSpec().reclaimPolicy == ReclaimPolicy.DELETE;
      TeardownResult result = TeardownExecutor.apply(c, new TeardownRequest(status.publicationName, status.slotName,
          uid, drop));
      if (drop && marker.isPresent()) {
        // success only when what should be gone is gone (a worker may have reconnected in between)
        List<String> remaining = new ArrayList<>();
        if (ReplicationSlots.read(c, status.slotName).isPresent()) {
          remaining.add("replication slot " + status.slotName);
        }
        if (Ownership.publicationMarker(c, status.publicationName).isPresent()) {
          remaining.add("publication " + status.publicationName);
        }
        if (!remaining.isEmpty()) {
          throw new NotYet(Reason.CLEANUP_FAILED, String.join(" and ", remaining) + " still exist after teardown"
              + skipped(result));
        }
      }
      return result;
    }
  }

  private static Connection connect(ConnectionSettings settings) throws PgConnectException {
    return PgConnections.open(settings);
  }

  private static String annotation(SourceDatabase source, String key) {
    Map<String, String> annotations = source.getMetadata().getAnnotations();
    return annotations == null ? null : annotations.get(key);
  }
}
