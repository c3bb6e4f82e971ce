package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Identifiers;

/**
 * What to undo for one source. The new-table tracking and context triggers pgtrail installed are always
 * removed; the slot and publication (and REPLICA IDENTITY FULL where pgtrail set it) only with
 * {@code dropPublicationAndSlot}, and only when the ownership marker names {@code ownerId}.
 */
public record TeardownRequest(String publication, String slot, String ownerId, boolean dropPublicationAndSlot) {
  public TeardownRequest {
    Identifiers.requireReplicationName("publication", publication);
    Identifiers.requireReplicationName("replication slot", slot);
  }
}
