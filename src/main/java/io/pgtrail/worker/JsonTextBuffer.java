package io.pgtrail.worker;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;

/**
 * JSON texts written one after another through one generator kept open (no separator between root values).
 * Creating and closing a generator for every row cost more of the worker's CPU than writing the row (its
 * buffers are taken from and given back to Jackson's recycler pool each time). Not thread-safe: one per user.
 *
 * <p>The text collects in a {@link StringBuilder}, not a {@code char[]}: text that is all Latin-1 (most
 * rows) takes one byte a character there, as in the String it becomes. A {@code char[]} took two, and a
 * change with 50 MB images then outgrew the worker Deployment's default heap.
 */
final class JsonTextBuffer extends Writer {
  private static final JsonFactory JSON = new JsonFactory();
  /** A buffer grown past this by one huge value is let go instead of kept for the next. */
  static final int KEEP_CHARS = 1 << 16;
  private static final int MAX_PRESIZED_CHARS = Integer.MAX_VALUE - 64;

  private StringBuilder text = new StringBuilder(1024);
  private JsonGenerator generator = newGenerator();

  /** The generator, on an emptied buffer: write one complete JSON value with it. */
  JsonGenerator start() {
    text.setLength(0);
    return generator;
  }

  /**
   * As {@link #start()}, with room made at once for a value of about {@code expectedChars}: a huge value
   * then fills one array of its size, where doubling would hold the last two arrays (1.5 times its size)
   * and leave up to half of the last one unused.
   */
  JsonGenerator start(long expectedChars) {
    if (expectedChars > KEEP_CHARS && expectedChars > text.capacity()) {
      text = null; // the old array may be collected before the new one is allocated
      text = new StringBuilder((int) Math.min(expectedChars + (expectedChars >> 6) + 64, MAX_PRESIZED_CHARS));
    }
    return start();
  }

  /**
   * The value written since {@link #start()}. A buffer grown past {@link #KEEP_CHARS} is let go at once: a
   * change with 50 MB images must not hold a spare 50 MB while its other image and its COPY row are built.
   */
  String text() throws IOException {
    generator.flush();
    String value = text.toString();
    if (text.capacity() > KEEP_CHARS) {
      text = new StringBuilder(1024);
    } else {
      text.setLength(0);
    }
    return value;
  }

  /** After a failure inside a value the generator is left in it: the next {@link #start()} gets a new one. */
  void discardGenerator() {
    generator = newGenerator();
    text = new StringBuilder(1024);
  }

  /** How many characters the buffer holds room for (for tests). */
  int capacity() {
    return text.capacity();
  }

  @Override
  public void write(char[] chars, int offset, int length) {
    text.append(chars, offset, length);
  }

  @Override
  public void write(String s, int offset, int length) {
    text.append(s, offset, offset + length);
  }

  @Override
  public void write(int c) {
    text.append((char) c);
  }

  @Override
  public void flush() {
    // the text stays in memory until text() takes it
  }

  @Override
  public void close() {
    // nothing to release: the generator is kept open on purpose
  }

  private JsonGenerator newGenerator() {
    try {
      return JSON.createGenerator(this).setRootValueSeparator(null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
