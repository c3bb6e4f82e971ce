package io.pgtrail.api.v1alpha1.status;

/** Condition types (positive polarity). {@code Ready} summarizes the others. */
public final class ConditionType {
  public static final String READY = "Ready";
  public static final String CREDENTIALS_RESOLVED = "CredentialsResolved";
  public static final String CONNECTED = "Connected";
  public static final String WAL_LEVEL_LOGICAL = "WalLevelLogical";
  public static final String REPLICATION_PERMITTED = "ReplicationPermitted";
  public static final String PUBLICATION_READY = "PublicationReady";
  public static final String SLOT_READY = "SlotReady";
  public static final String SLOT_HEALTHY = "SlotHealthy";
  public static final String WORKER_AVAILABLE = "WorkerAvailable";
  public static final String WORKER_STREAMING = "WorkerStreaming";
  public static final String SOURCE_RESOLVED = "SourceResolved";

  private ConditionType() {}
}
