package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.TrackingScope;

/**
 * Everything setup needs to know: names, provider, scope, options, and who owns what it creates
 * ({@code ownerId} is written into the publication's ownership marker). {@code adoptExistingSlot} says
 * the caller knows from its own records that it created the slot: an existing slot is then taken back
 * even when the publication carrying the marker was dropped by hand. {@code failoverSlot} creates the slot
 * with {@code failover} where the server supports it (PostgreSQL 17+), so synchronized standbys keep it.
 */
public record SetupRequest(
    String publication,
    String slot,
    Provider provider,
    TrackingScope scope,
    boolean trackNewTables,
    boolean contextTriggers,
    String ownerId,
    ManagedRole managedRole,
    boolean adoptExistingSlot,
    boolean failoverSlot) {

  public SetupRequest(String publication, String slot, Provider provider, TrackingScope scope, boolean trackNewTables,
      boolean contextTriggers, String ownerId, ManagedRole managedRole) {
    this(publication, slot, provider, scope, trackNewTables, contextTriggers, ownerId, managedRole, false);
  }

  public SetupRequest(String publication, String slot, Provider provider, TrackingScope scope, boolean trackNewTables,
      boolean contextTriggers, String ownerId, ManagedRole managedRole, boolean adoptExistingSlot) {
    this(publication, slot, provider, scope, trackNewTables, contextTriggers, ownerId, managedRole, adoptExistingSlot,
        true);
  }

  /** The same request with the slot's failover choice. */
  public SetupRequest withFailoverSlot(boolean failover) {
    return new SetupRequest(publication, slot, provider, scope, trackNewTables, contextTriggers, ownerId, managedRole,
        adoptExistingSlot, failover);
  }

  public SetupRequest {
    Identifiers.requireReplicationName("publication", publication);
    Identifiers.requireReplicationName("replication slot", slot);
    provider = provider == null ? Provider.SELF_MANAGED : provider;
    scope = scope == null ? new TrackingScope(null, null, null, false) : scope;
    if (ownerId == null || ownerId.isBlank()) {
      throw new IllegalArgumentException("setup needs an owner id for its ownership marker");
    }
  }
}
