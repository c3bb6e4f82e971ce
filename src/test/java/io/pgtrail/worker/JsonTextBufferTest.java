package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonGenerator;
import org.junit.jupiter.api.Test;

class JsonTextBufferTest {

  @Test
  void eachValueIsItsOwnTextWithoutASeparator() throws Exception {
    JsonTextBuffer buffer = new JsonTextBuffer();
    JsonGenerator g = buffer.start();
    g.writeStartObject();
    g.writeNumberField("id", 1);
    g.writeEndObject();
    assertThat(buffer.text()).isEqualTo("{\"id\":1}");

    g = buffer.start();
    g.writeStartObject();
    g.writeStringField("name", "a\u0000b");
    g.writeEndObject();
    assertThat(buffer.text()).isEqualTo("{\"name\":\"a\\u0000b\"}");
  }

  @Test
  void aValueLeftHalfWrittenDoesNotLeakIntoTheNext() throws Exception {
    JsonTextBuffer buffer = new JsonTextBuffer();
    JsonGenerator g = buffer.start();
    g.writeStartObject();
    g.writeFieldName("half");
    buffer.discardGenerator();

    g = buffer.start();
    g.writeStartArray();
    g.writeNumber(2);
    g.writeEndArray();
    assertThat(buffer.text()).isEqualTo("[2]");
  }

  @Test
  void aHugeValuesBufferIsLetGoOnceItsTextIsTaken() throws Exception {
    JsonTextBuffer buffer = new JsonTextBuffer();
    JsonGenerator g = buffer.start();
    g.writeString("x".repeat(1 << 20));
    assertThat(buffer.text()).hasSize((1 << 20) + 2);
    assertThat(buffer.capacity()).isLessThanOrEqualTo(JsonTextBuffer.KEEP_CHARS);

    g = buffer.start();
    g.writeString("small");
    assertThat(buffer.text()).isEqualTo("\"small\"");
  }
}
