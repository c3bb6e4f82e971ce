package io.pgtrail.worker;

/**
 * One recorded row change, ready for the {@code changes} table. {@code before}, {@code after} and
 * {@code context} are JSON object texts; {@code position} is the WAL position (LSN) of the change.
 */
public record Change(
    String database,
    String schema,
    String table,
    String primaryKey,
    Operation operation,
    String before,
    String after,
    String context,
    long committedAtMicros,
    long queuedAtMicros,
    long transactionId,
    long position) {

  /** MESSAGE: a record of pgtrail's own, such as a gap record (Bemi's CHECK constraint allows it). */
  public enum Operation { CREATE, UPDATE, DELETE, TRUNCATE, MESSAGE }

  public static final String EMPTY_JSON = "{}";
}
