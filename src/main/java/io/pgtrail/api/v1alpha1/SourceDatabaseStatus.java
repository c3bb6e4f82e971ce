package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and did; rebuilt from scratch on every reconcile. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SourceDatabaseStatus {
  public Long observedGeneration;

  @JsonPropertyDescription("Ready summarizes the others; each condition's message says how to fix a failure.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("PostgreSQL server version, e.g. 17.6.")
  public String serverVersion;

  public String publicationName;
  public String slotName;

  @JsonPropertyDescription("The role the worker streams with.")
  public String replicationUser;

  @JsonPropertyDescription("Operator-owned Secret with the managed role's password (credentials.mode managedRole).")
  public String managedRoleSecret;

  public Integer trackedTableCount;

  @JsonPropertyDescription("The tracked tables (schema.table), at most 500 listed.")
  public List<String> trackedTables;

  @JsonPropertyDescription("TrackingPolicies (name and generation) the publication currently reflects.")
  public List<AppliedPolicy> appliedPolicies;

  public SlotFacts slot;

  @JsonPropertyDescription("Public key to authorize on the SSH jump host (sshTunnel).")
  public String sshPublicKey;

  @JsonPropertyDescription("The jump host key pinned on first use (sshTunnel.hostKeyPolicy acceptNew).")
  public String sshHostKeyFingerprint;

  public String workerDeployment;

  @JsonPropertyDescription("The worker's progress as it reports it in the destination (pgtrail_progress).")
  public WorkerProgressFacts worker;

  /** A TrackingPolicy generation merged into the publication. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class AppliedPolicy {
    public String name;
    public Long generation;

    public AppliedPolicy() {}

    public AppliedPolicy(String name, Long generation) {
      this.name = name;
      this.generation = generation;
    }
  }

  /** pg_replication_slots facts for the slot. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class SlotFacts {
    public Boolean active;
    @JsonPropertyDescription("WAL kept for the slot (bytes behind the current WAL position).")
    public Long retainedWalBytes;
    @JsonPropertyDescription("retainedWalBytes in human form (e.g. 12Mi).")
    public String retainedWal;
    @JsonPropertyDescription("reserved, extended, unreserved or lost (pg_replication_slots.wal_status).")
    public String walStatus;
    @JsonPropertyDescription("Bytes that can still be written before the slot risks losing WAL (max_slot_wal_keep_size).")
    public Long safeWalSize;
    public String confirmedFlushLsn;
    @JsonPropertyDescription("The slot was created with failover (PostgreSQL 17+): synchronized standbys keep it.")
    public Boolean failover;
    @JsonPropertyDescription("The slot survives a promotion: failover on and synchronized_standby_slots names"
        + " streaming standbys.")
    public Boolean failoverReady;
    @JsonPropertyDescription("Why the slot is (not) failover-ready and what to set.")
    public String failoverMessage;
    @JsonPropertyDescription("Why PostgreSQL invalidated the slot (e.g. wal_removed, idle_timeout); absent while usable.")
    public String invalidationReason;
  }

  /** What the worker reports in the destination's pgtrail_progress table. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class WorkerProgressFacts {
    @JsonPropertyDescription("starting, streaming, retrying, stalled or stopped.")
    public String state;
    public String stateReason;
    @JsonPropertyDescription("When the worker last acknowledged a position to the source.")
    public String acknowledgedAt;
    @JsonPropertyDescription("The worker's last report (heartbeat).")
    public String reportedAt;
    public String lastError;
    public String lastErrorAt;
    @JsonPropertyDescription("Changes put into the dead-letter table instead of changes.")
    public Long setAsideChanges;
    @JsonPropertyDescription("Gap records written into changes (the trail says where it has a hole).")
    public Long gapRecords;
  }
}
