package io.pgtrail.worker;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.CharArrayWriter;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * JSON texts written one after another through one generator kept open (no separator between root values).
 * Creating and closing a generator for every row cost more of the worker's CPU than writing the row (its
 * buffers are taken from and given back to Jackson's recycler pool each time). Not thread-safe: one per user.
 */
final class JsonTextBuffer extends CharArrayWriter {
  private static final JsonFactory JSON = new JsonFactory();
  /** A buffer grown past this by one huge value is let go instead of kept for the next. */
  private static final int KEEP_CHARS = 1 << 16;

  private JsonGenerator generator = newGenerator();

  /** The generator, on an emptied buffer: write one complete JSON value with it. */
  JsonGenerator start() {
    reset();
    return generator;
  }

  /** The value written since {@link #start()}; a buffer grown by a huge value is let go at once. */
  String text() throws IOException {
    generator.flush();
    String text = new String(buf, 0, count);
    letGoIfHuge();
    return text;
  }

  /**
   * Lets a buffer grown past {@link #KEEP_CHARS} go now rather than at the next {@link #start()}: a change with
   * 50 MB images must not hold a spare 100 MB array while its other image and its COPY row are built.
   */
  void letGoIfHuge() {
    if (buf.length > KEEP_CHARS) {
      buf = new char[1024];
      count = 0;
    }
  }

  /** After a failure inside a value the generator is left in it: the next {@link #start()} gets a new one. */
  void discardGenerator() {
    generator = newGenerator();
  }

  char[] chars() {
    return buf;
  }

  @Override
  public void reset() {
    super.reset();
    letGoIfHuge();
  }

  private JsonGenerator newGenerator() {
    try {
      return JSON.createGenerator(this).setRootValueSeparator(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
