package io.pgtrail.reconciler.support;

import io.pgtrail.api.v1alpha1.WorkerSpec;
import java.time.Clock;
import java.time.Duration;

/**
 * Knobs shared by the reconcilers.
 *
 * @param workerImage image of the worker Deployments unless a SourceDatabase overrides it
 * @param resyncInterval how often a healthy source is re-checked (slot facts, drift repair)
 * @param retryInterval how soon a failing source is retried
 * @param cleanupTimeout after this long a deletion whose database cleanup keeps failing gives up
 * @param connectTimeoutSeconds connect timeout for the operator's own database connections
 * @param workerPodDefaults pod settings (a spec.worker) every worker gets unless its source sets them
 * @param workerLogFormat the workers' log format (json or text)
 * @param workerStallTimeout how long a slot's confirmed position may stand still, WAL pending, before
 *     WorkerStreaming turns False
 */
public record ReconcilerSettings(
    String workerImage,
    Duration resyncInterval,
    Duration retryInterval,
    Duration cleanupTimeout,
    int connectTimeoutSeconds,
    Clock clock,
    WorkerSpec workerPodDefaults,
    String workerLogFormat,
    Duration workerStallTimeout) {

}
