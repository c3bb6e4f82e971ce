package io.pgtrail.worker.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import org.junit.jupiter.api.Test;

class CopyBinaryBufferTest {

  /**
   * A change too big for the heap: the allocation fails, and the buffer must stay usable, or the session's
   * cleanup trips over it and leaves the replication connection open (the slot then stays active).
   */
  @Test
  void aRefusedReservationLeavesAnEmptyUsableBuffer() throws Exception {
    CopyBinaryBuffer buffer = new CopyBinaryBuffer();

    assertThatThrownBy(() -> buffer.reserve(Integer.MAX_VALUE - 64)).isInstanceOf(OutOfMemoryError.class);

    buffer.reset();
    buffer.startRow(1).text("after");
    buffer.finish();
    assertThat(buffer.rows()).isEqualTo(1);
    assertThat(new String(buffer.fields(0)[0], java.nio.charset.StandardCharsets.UTF_8)).isEqualTo("after");
    try (InputStream copy = buffer.copyStream(0, 1)) {
      assertThat(copy.readAllBytes()).startsWith('P', 'G', 'C', 'O', 'P', 'Y');
    }
  }

  @Test
  void aHugeFieldIsEncodedInPlaceAsGetBytesWould() {
    String huge = "é\u0000x".repeat(400_000) + "\ud800" + "😀";
    CopyBinaryBuffer buffer = new CopyBinaryBuffer();
    buffer.startRow(2).text(huge).jsonb("\"" + huge + "\"");

    byte[][] fields = buffer.fields(0);
    assertThat(fields[0]).isEqualTo(huge.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    assertThat(fields[1][0]).isEqualTo((byte) 1);
    assertThat(new String(fields[1], 1, fields[1].length - 1, java.nio.charset.StandardCharsets.UTF_8))
        .isEqualTo(new String(("\"" + huge + "\"").getBytes(java.nio.charset.StandardCharsets.UTF_8),
            java.nio.charset.StandardCharsets.UTF_8));
  }
}
