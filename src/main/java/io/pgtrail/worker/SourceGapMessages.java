package io.pgtrail.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrail.postgres.plan.GapMessage;
import io.pgtrail.worker.sink.GapRecords;
import java.io.IOException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * The event trigger's {@link GapMessage}s (an in-scope table it could not publish) as gap records: a
 * {@code MESSAGE} change at the message's own position, so it is written with its batch, exactly once, and
 * a replay is absorbed by the replay key like any change (docs/changes-table.md, "Gap records").
 */
final class SourceGapMessages {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private SourceGapMessages() {}

  /**
   * The gap record for a message of the {@link GapMessage#PREFIX} prefix, or null when it is not one for
   * {@code publication} (null: any publication).
   */
  static Change gapRecord(byte[] content, String publication, String database, long committedAtMicros,
      long queuedAtMicros, long transactionId, long lsn) {
    JsonNode message;
    try {
      message = MAPPER.readTree(content);
    } catch (IOException notJson) {
      return null;
    }
    if (message == null || !message.isObject()
        || !GapMessage.TABLE_NOT_PUBLISHED.equals(message.path("gap").asText(null))
        || publication != null && !publication.equals(message.path("publication").asText(null))) {
      return null;
    }
    Instant committedAt = Instant.EPOCH.plus(committedAtMicros, ChronoUnit.MICROS);
    ObjectNode gap = GapRecords.gap(GapRecords.Reason.TableNotPublished, lsn, committedAt, null, committedAt);
    gap.set("schema", message.path("schema").isTextual() ? message.get("schema") : gap.nullNode());
    gap.set("table", message.path("table").isTextual() ? message.get("table") : gap.nullNode());
    gap.set("detail", message.path("detail").isTextual() ? message.get("detail") : gap.nullNode());
    return new Change(database, "", "", null, Change.Operation.MESSAGE, Change.EMPTY_JSON, Change.EMPTY_JSON,
        GapRecords.context(gap), committedAtMicros, queuedAtMicros, transactionId, lsn);
  }
}
