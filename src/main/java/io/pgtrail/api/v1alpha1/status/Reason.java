package io.pgtrail.api.v1alpha1.status;

/**
 * CamelCase reasons used by conditions and Events. Reasons reported by the PostgreSQL engine (preflight
 * check reasons, connection failure reasons) are passed through as they come and are not listed here.
 */
public enum Reason {
  READY("Ready"),
  RECONCILING("Reconciling"),
  INVALID_SPEC("InvalidSpec"),
  SECRET_NOT_FOUND("SecretNotFound"),
  SECRET_KEY_MISSING("SecretKeyMissing"),
  CREDENTIALS_RESOLVED("CredentialsResolved"),
  CONNECTED("Connected"),
  PREFLIGHT_PASSED("PreflightPassed"),
  WAL_LEVEL_LOGICAL("WalLevelLogical"),
  CONFLICT("Conflict"),
  NO_TRACKING_POLICY("NoTrackingPolicy"),
  PUBLICATION_READY("PublicationReady"),
  SETUP_FAILED("SetupFailed"),
  SLOT_READY("SlotReady"),
  SLOT_MISSING("SlotMissing"),
  SLOT_HEALTHY("SlotHealthy"),
  RETAINED_WAL_TOO_LARGE("RetainedWalTooLarge"),
  SLOT_LOST("SlotLost"),
  SLOT_INVALIDATED("SlotInvalidated"),
  SLOT_RECREATED("SlotRecreated"),
  SLOT_AT_RISK("SlotAtRisk"),
  WORKER_STREAMING("WorkerStreaming"),
  WORKER_NOT_REPORTING("WorkerNotReporting"),
  WORKER_NOT_ACKNOWLEDGING("WorkerNotAcknowledging"),
  WORKER_RETRYING("WorkerRetrying"),
  WORKER_STALLED("WorkerStalled"),
  WORKER_STOPPED("WorkerStopped"),
  WAITING_FOR_WORKER("WaitingForWorker"),
  WORKER_AVAILABLE("WorkerAvailable"),
  WORKER_STARTING("WorkerStarting"),
  WORKER_UPDATED("WorkerUpdated"),
  DRIFT_REPAIRED("DriftRepaired"),
  PUBLICATION_UPDATED("PublicationUpdated"),
  /** Setup left tables out of tracking (publishing them would break their writes) or could not make them complete. */
  TABLES_LEFT_OUT("TablesLeftOut"),
  SSH_KEY_GENERATED("SshKeyGenerated"),
  SSH_KEY_ROTATED("SshKeyRotated"),
  SSH_HOST_KEY_PINNED("SshHostKeyPinned"),
  MANAGED_ROLE_CREATED("ManagedRoleCreated"),
  WAITING("Waiting"),
  CLEANUP_DONE("CleanupDone"),
  CLEANUP_FAILED("CleanupFailed"),
  CLEANUP_ABANDONED("CleanupAbandoned"),
  RESOURCES_RETAINED("ResourcesRetained"),
  SOURCE_NOT_FOUND("SourceNotFound"),
  SOURCE_RESOLVED("SourceResolved"),
  SOURCE_NOT_READY("SourceNotReady"),
  INTERNAL_ERROR("InternalError");

  private final String camelCase;

  Reason(String camelCase) {
    this.camelCase = camelCase;
  }

  public String camelCase() {
    return camelCase;
  }

  @Override
  public String toString() {
    return camelCase;
  }
}
