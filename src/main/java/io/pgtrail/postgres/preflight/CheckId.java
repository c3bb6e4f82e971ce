package io.pgtrail.postgres.preflight;

import io.pgtrail.postgres.plan.SetupException;
import java.util.Locale;

/** The preflight checks, in the order they run; each names the condition reason it fails with. */
public enum CheckId {
  SERVER_VERSION(SetupException.UNSUPPORTED_VERSION, "server version"),
  WAL_LEVEL("WalLevelNotLogical", "wal_level"),
  REPLICATION_PRIVILEGE("MissingReplicationPrivilege", "replication right"),
  REPLICATION_SLOTS("NoFreeReplicationSlots", "free replication slots"),
  WAL_SENDERS("NoFreeWalSenders", "free WAL senders"),
  POOLER("PoolerInTheWay", "direct connection"),
  PUBLICATION_PRIVILEGE("MissingPublicationPrivilege", "right to create the publication"),
  TABLE_OWNERSHIP("NotTableOwner", "ownership of tracked tables"),
  EVENT_TRIGGER_PRIVILEGE("MissingEventTriggerPrivilege", "right to create event triggers"),
  TRACKED_TABLES(SetupException.TRACKED_TABLES_INVALID, "tracked tables"),
  PRIMARY_KEYS("TablesWithoutPrimaryKey", "primary keys"),
  VIRTUAL_GENERATED_COLUMNS("VirtualGeneratedColumns", "virtual generated columns"),
  WAL_RETENTION_LIMIT("UnboundedWalRetention", "WAL retention limit"),
  IDLE_SLOT_TIMEOUT("IdleSlotTimeout", "idle slot timeout"),
  FAILOVER_SLOT("FailoverNotReady", "failover slot"),
  EXISTING_SLOT("SlotConflict", "replication slot"),
  EXISTING_PUBLICATION("Conflict", "publication");

  private final String reason;
  private final String title;

  CheckId(String reason, String title) {
    this.reason = reason;
    this.title = title;
  }

  /** The CamelCase condition reason used when this check fails. */
  public String reason() {
    return reason;
  }

  public String title() {
    return title;
  }

  /** The kebab-case id shown by {@code pgtrail check}, e.g. {@code wal-level}. */
  public String id() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
