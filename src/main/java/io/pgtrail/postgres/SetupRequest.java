package io.pgtrail.postgres;

/**
 * Everything setup needs to know: names, provider, scope, options, and who owns what it creates
 * ({@code ownerId} is written into the publication's ownership marker).
 */
public record SetupRequest(
    String publication,
    String slot,
    Provider provider,
    TrackingScope scope,
    boolean trackNewTables,
    boolean contextTriggers,
    String ownerId,
    ManagedRole managedRole) {

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
