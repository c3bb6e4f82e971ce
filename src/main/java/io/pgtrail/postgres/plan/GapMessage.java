package io.pgtrail.postgres.plan;

/**
 * The logical decoding message the event trigger emits, in the user's transaction, when it could not put
 * an in-scope table into the publication (docs/changes-table.md, "Gap records"). Content: a JSON object
 * {@code {"gap": "TableNotPublished", "publication": ..., "schema": ..., "table": ..., "detail": ...}};
 * schema and table are null when the trigger failed before it knew the table.
 */
public final class GapMessage {
  /** The message prefix ({@code pg_logical_emit_message(true, 'pgtrail', ...)}). */
  public static final String PREFIX = "pgtrail";
  /** The one kind of gap the source reports itself. */
  public static final String TABLE_NOT_PUBLISHED = "TableNotPublished";

  private GapMessage() {}
}
