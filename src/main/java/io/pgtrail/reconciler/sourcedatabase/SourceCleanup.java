package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.pgtrail.api.v1alpha1.ReclaimPolicy;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.OwnerMarker;
import io.pgtrail.postgres.Ownership;
import io.pgtrail.postgres.PgConnectException;
import io.pgtrail.postgres.PgConnections;
import io.pgtrail.postgres.TeardownExecutor;
import io.pgtrail.postgres.TeardownRequest;
import io.pgtrail.postgres.TeardownResult;
import io.pgtrail.reconciler.support.EventRecorder;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletion: stop the worker, then drop what pgtrail provably owns in PostgreSQL. With reclaimPolicy
 * retain the slot and publication stay (an Event says so). A source that stays unreachable does not
 * block deletion forever: after the cleanup timeout, or at once with the annotation
 * {@value #SKIP_CLEANUP}=true, the finalizer is removed and an Event lists what was left behind.
 */
final class SourceCleanup {
  static final String SKIP_CLEANUP = "pgtrail.io/skip-cleanup";
  private static final Logger LOG = LoggerFactory.getLogger(SourceCleanup.class);

  private final KubernetesClient client;
  private final ReconcilerSettings settings;
  private final EventRecorder events;
  private final SourceAccess access;
  private final Route route;
  /** The last failure reported per source uid, so a Warning is recorded once per distinct failure. */
  private final Map<String, String> reportedFailures = new ConcurrentHashMap<>();

  /** Where cleanup reaches the database: directly, or through the source's SSH tunnel. */
  interface Route {
    ConnectionSettings to(SourceDatabase source, ConnectionSettings admin) throws Exception;
  }

  SourceCleanup(KubernetesClient client, ReconcilerSettings settings, EventRecorder events, SourceAccess access,
      Route route) {
    this.client = client;
    this.settings = settings;
    this.events = events;
    this.access = access;
    this.route = route;
  }

  DeleteControl run(SourceDatabase source) {
    stopWorker(source);
    SourceDatabaseStatus status = source.getStatus();
    if (status == null || status.publicationName == null) {
      events.normal(source, Reason.CLEANUP_DONE, "nothing was created in PostgreSQL; worker removed");
      return done(source);
    }
    String leftBehind = "slot " + status.slotName + " and publication " + status.publicationName;
    if ("true".equals(annotation(source, SKIP_CLEANUP))) {
      events.warning(source, Reason.CLEANUP_ABANDONED, SKIP_CLEANUP + "=true: PostgreSQL was not touched; "
          + leftBehind + " (and pgtrail's event trigger) may remain: drop them by hand");
      return done(source);
    }
    try {
      TeardownResult result = teardown(source, status);
      if (source.getSpec().reclaimPolicy == ReclaimPolicy.DELETE) {
        events.normal(source, Reason.CLEANUP_DONE, result.executedSteps().isEmpty()
            ? "nothing of pgtrail's was left in PostgreSQL" + skipped(result)
            : "dropped: " + String.join("; ", result.executedSteps()) + skipped(result));
      } else {
        events.normal(source, Reason.RESOURCES_RETAINED, "reclaimPolicy retain: kept " + leftBehind
            + " (drop them with SELECT pg_drop_replication_slot('" + status.slotName + "'); DROP PUBLICATION "
            + status.publicationName + ";)" + (result.executedSteps().isEmpty() ? ""
            : "; removed: " + String.join("; ", result.executedSteps())));
      }
      return done(source);
    } catch (Exception e) {
      String message = e instanceof SQLException sql ? sql.getMessage() + " (SQLSTATE " + sql.getSQLState() + ")"
          : e.getMessage();
      Instant deletedAt = Instant.parse(source.getMetadata().getDeletionTimestamp());
      Duration waited = Duration.between(deletedAt, settings.clock().instant());
      if (waited.compareTo(settings.cleanupTimeout()) >= 0) {
        events.warning(source, Reason.CLEANUP_ABANDONED, "cleanup kept failing for " + waited.toMinutes()
            + " min (" + message + "): giving up; " + leftBehind + " may remain in PostgreSQL");
        return done(source);
      }
      if (!message.equals(reportedFailures.put(source.getMetadata().getUid(), message))) {
        events.warning(source, Reason.CLEANUP_FAILED, "cannot clean up PostgreSQL yet (" + message
            + "); retrying; deletion completes without cleanup after " + settings.cleanupTimeout().toMinutes()
            + " min or at once with the annotation " + SKIP_CLEANUP + "=true");
      }
      LOG.info("cleanup of {}/{} failed, retrying: {}", source.getMetadata().getNamespace(),
          source.getMetadata().getName(), message);
      return DeleteControl.noFinalizerRemoval().rescheduleAfter(settings.retryInterval().toMillis());
    }
  }

  private static String skipped(TeardownResult result) {
    return result.skipped().isEmpty() ? "" : "; left alone: " + String.join("; ", result.skipped());
  }

  private DeleteControl done(SourceDatabase source) {
    reportedFailures.remove(source.getMetadata().getUid());
    return DeleteControl.defaultDelete();
  }

  private void stopWorker(SourceDatabase source) {
    // stop streaming before the slot is dropped; owner references delete the rest with the source
    client.apps().deployments().inNamespace(source.getMetadata().getNamespace())
        .withName(WorkerResources.deploymentName(source)).delete();
  }

  private TeardownResult teardown(SourceDatabase source, SourceDatabaseStatus status) throws Exception {
    var spec = source.getSpec();
    SourceAccess.Credentials credentials = access.credentials(source.getMetadata().getNamespace(),
        "spec.connection.credentialsSecretRef", spec.connection.credentialsSecretRef);
    String ca = access.caCertificate(source.getMetadata().getNamespace(), "spec.connection.caCertSecretRef",
        spec.connection.caCertSecretRef);
    ConnectionSettings admin = route.to(source,
        access.settings(spec.connection, credentials, ca, settings.connectTimeoutSeconds()));
    try (Connection c = connect(admin)) {
      Optional<OwnerMarker> marker = Ownership.publicationMarker(c, status.publicationName);
      String uid = source.getMetadata().getUid();
      if (marker.isPresent() && !uid.equals(marker.get().ownerId())) {
        return new TeardownResult(java.util.List.of(), java.util.List.of("publication " + status.publicationName
            + " belongs to another owner (" + marker.get().ownerId() + ")"));
      }
      return TeardownExecutor.apply(c, new TeardownRequest(status.publicationName, status.slotName, uid,
          spec.reclaimPolicy == ReclaimPolicy.DELETE));
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
