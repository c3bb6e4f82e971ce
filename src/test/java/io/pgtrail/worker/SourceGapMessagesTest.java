package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The event trigger's gap message as a gap record; other publications' and foreign messages are not ours. */
class SourceGapMessagesTest {
  private static final String MESSAGE = "{\"gap\" : \"TableNotPublished\", \"publication\" : \"p\", \"schema\" :"
      + " \"app\", \"table\" : \"Odd \\\"T\\\"\", \"detail\" : \"canceling statement due to lock timeout (SQLSTATE 55P03)\"}";
  private static final long COMMITTED_AT_MICROS = 1_764_320_000_123_456L;

  private static Change record(String content, String publication) {
    return SourceGapMessages.gapRecord(content.getBytes(StandardCharsets.UTF_8), publication, "shop",
        COMMITTED_AT_MICROS, COMMITTED_AT_MICROS + 5, 777, 0x1D8EEB0L);
  }

  @Test
  void theMessageOfItsPublicationBecomesAGapRecordAtItsPosition() throws Exception {
    Change c = record(MESSAGE, "p");
    assertThat(c.operation()).isEqualTo(Change.Operation.MESSAGE);
    assertThat(c.schema()).isEmpty();
    assertThat(c.table()).isEmpty();
    assertThat(c.primaryKey()).isNull();
    assertThat(c.position()).isEqualTo(0x1D8EEB0L);
    assertThat(c.transactionId()).isEqualTo(777);
    JsonNode gap = new ObjectMapper().readTree(c.context()).path("pgtrail").path("gap");
    assertThat(gap.path("reason").asText()).isEqualTo("TableNotPublished");
    assertThat(gap.path("from_position").asLong()).isEqualTo(0x1D8EEB0L);
    assertThat(gap.path("to_position").isNull()).isTrue();
    assertThat(gap.path("from_committed_at").asText()).isEqualTo("2025-11-28T08:53:20.123456Z");
    assertThat(gap.path("schema").asText()).isEqualTo("app");
    assertThat(gap.path("table").asText()).isEqualTo("Odd \"T\"");
    assertThat(gap.path("detail").asText()).contains("55P03");
    assertThat(record(MESSAGE, null)).as("any publication").isNotNull();
  }

  @Test
  void anotherPublicationsOrAForeignMessageIsNotOurs() {
    assertThat(record(MESSAGE, "other")).isNull();
    assertThat(record("not json", "p")).isNull();
    assertThat(record("[1]", "p")).isNull();
    assertThat(record("{\"gap\": \"SomethingElse\", \"publication\": \"p\"}", "p")).isNull();
    Change unknownTable = record("{\"gap\": \"TableNotPublished\", \"publication\": \"p\", \"schema\": null,"
        + " \"table\": null, \"detail\": \"tracking not updated\"}", "p");
    assertThat(unknownTable.context()).contains("\"schema\":null", "\"table\":null");
  }
}
