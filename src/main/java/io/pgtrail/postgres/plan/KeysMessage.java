package io.pgtrail.postgres.plan;

/**
 * The logical decoding message the event trigger emits, in the user's transaction, for every published table
 * a CREATE TABLE or ALTER TABLE touched: the table's primary key as it is from that statement on
 * (docs/values.md, "Primary keys"). Under REPLICA IDENTITY FULL pgoutput's Relation message flags every
 * column as key, so this is how the worker learns the key in stream order, even for a table dropped or
 * altered before the worker reads its changes. Content (prefix {@value GapMessage#PREFIX}):
 * {@code {"keys": {"relation": <oid>, "schema": ..., "table": ..., "columns": [...]}}}; columns in key
 * order, empty when the table has no primary key.
 */
public final class KeysMessage {
  /** The member that tells a keys message from a {@link GapMessage}. */
  public static final String KEYS = "keys";

  private KeysMessage() {}
}
