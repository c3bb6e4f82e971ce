package io.pgtrail.worker.sink;

import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Rows in PostgreSQL's binary COPY format, in one growable byte array: a header, then per row a field
 * count and length-prefixed fields, then a trailer. Binary spares the destination the text parsing of
 * timestamps and numbers and the un-escaping of every field (about 10 to 20% of its CPU a row, measured),
 * and the worker the escaping.
 */
final class CopyBinaryBuffer {
  private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0,
      0, 0, 0, 0, // flags: no OIDs
      0, 0, 0, 0}; // no header extension
  private static final int NULL_LENGTH = -1;
  private static final int INITIAL_BYTES = 1 << 20;
  /** A buffer grown beyond this (twice the default batch.maxBytes) for a huge change is given back after its batch. */
  private static final int KEEP_AT_MOST_BYTES = 32 << 20;
  /** Strings longer than this are encoded straight into the buffer, without a temporary byte array. */
  private static final int LARGE_STRING_CHARS = 1 << 20;
  private static final byte JSONB_VERSION = 1;

  private byte[] bytes = new byte[INITIAL_BYTES];
  private int[] rowStarts = new int[1024];
  private int rows;
  private int size;
  private boolean started;
  private boolean finished;

  int size() {
    return size;
  }

  byte[] array() {
    return bytes;
  }

  /** Empties the buffer; the next row starts a new COPY stream (with its header). */
  void reset() {
    size = 0;
    rows = 0;
    if (bytes.length > KEEP_AT_MOST_BYTES) {
      bytes = new byte[INITIAL_BYTES];
    }
    started = false;
    finished = false;
  }

  CopyBinaryBuffer startRow(int fields) {
    if (!started) {
      put(HEADER, 0, HEADER.length);
      started = true;
    }
    if (rows == rowStarts.length) {
      rowStarts = Arrays.copyOf(rowStarts, rows * 2);
    }
    rowStarts[rows++] = size;
    ensure(2);
    bytes[size++] = (byte) (fields >>> 8);
    bytes[size++] = (byte) fields;
    return this;
  }

  int rows() {
    return rows;
  }

  /** Rows {@code [from, to)} as a complete COPY stream of their own (header, rows, trailer). */
  java.io.InputStream copyStream(int from, int to) {
    int end = to < rows ? rowStarts[to] : rowsEnd();
    return new java.io.SequenceInputStream(java.util.Collections.enumeration(java.util.List.of(
        new java.io.ByteArrayInputStream(HEADER),
        new java.io.ByteArrayInputStream(bytes, rowStarts[from], end - rowStarts[from]),
        new java.io.ByteArrayInputStream(new byte[] {(byte) 0xFF, (byte) 0xFF}))));
  }

  private int rowsEnd() {
    return finished ? size - 2 : size;
  }

  /** The fields of row {@code row} as written: each a byte array, null for SQL NULL. */
  byte[][] fields(int row) {
    int at = rowStarts[row];
    int count = ((bytes[at] & 0xFF) << 8) | (bytes[at + 1] & 0xFF);
    at += 2;
    byte[][] fields = new byte[count][];
    for (int f = 0; f < count; f++) {
      int length = ((bytes[at] & 0xFF) << 24) | ((bytes[at + 1] & 0xFF) << 16) | ((bytes[at + 2] & 0xFF) << 8)
          | (bytes[at + 3] & 0xFF);
      at += 4;
      if (length >= 0) {
        fields[f] = Arrays.copyOfRange(bytes, at, at + length);
        at += length;
      }
    }
    return fields;
  }

  /** Ends the COPY stream (once); nothing may be added until {@link #reset()}. */
  void finish() {
    if (started && !finished) {
      finished = true;
      ensure(2);
      bytes[size++] = (byte) 0xFF;
      bytes[size++] = (byte) 0xFF;
    }
  }

  /**
   * Makes room for {@code more} bytes at once: a change with huge values grows the buffer once to its
   * size instead of doubling it field by field (each doubling holds the old and the new array).
   */
  void reserve(long more) {
    if (size + more > bytes.length) {
      if (size + more > Integer.MAX_VALUE - 16) {
        throw new IllegalStateException("a change of " + more + " bytes does not fit one COPY buffer");
      }
      if (size == 0) {
        bytes = null; // nothing to keep: the old array may be collected before the new one is allocated
        try {
          bytes = new byte[(int) more];
        } finally {
          if (bytes == null) { // the allocation failed: the buffer stays usable (empty) for discard and reset
            bytes = new byte[INITIAL_BYTES];
          }
        }
      } else {
        bytes = Arrays.copyOf(bytes, (int) (size + more));
      }
    }
  }

  /** The UTF-8 length of {@code s}, counted without encoding it. */
  static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else if (Character.isSurrogate(c)) {
        n++; // an unpaired surrogate: '?', as String.getBytes writes it
      } else {
        n += 3;
      }
    }
    return n;
  }

  /** A text, varchar or enum field (their binary form is the UTF-8 text); null stays null. */
  CopyBinaryBuffer text(String value) {
    if (value == null) {
      putInt(NULL_LENGTH);
      return this;
    }
    if (value.length() > LARGE_STRING_CHARS) {
      putLarge(value, false);
      return this;
    }
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    putInt(utf8.length);
    put(utf8, 0, utf8.length);
    return this;
  }

  /** A jsonb field: a version byte, then the JSON text. */
  CopyBinaryBuffer jsonb(String json) {
    if (json == null) {
      putInt(NULL_LENGTH);
      return this;
    }
    if (json.length() > LARGE_STRING_CHARS) {
      putLarge(json, true);
      return this;
    }
    byte[] utf8 = json.getBytes(StandardCharsets.UTF_8);
    putInt(utf8.length + 1);
    ensure(1);
    bytes[size++] = JSONB_VERSION;
    put(utf8, 0, utf8.length);
    return this;
  }

  /** A uuid field: 16 bytes, most significant first. */
  CopyBinaryBuffer uuid(long[] bits) {
    putInt(16);
    putLong(bits[0]);
    putLong(bits[1]);
    return this;
  }

  /** A huge field encoded in place (as getBytes would: an unpaired surrogate becomes '?'). */
  private void putLarge(String value, boolean jsonb) {
    long length = utf8Length(value) + (jsonb ? 1 : 0);
    reserve(4 + length);
    putInt((int) length);
    if (jsonb) {
      bytes[size++] = JSONB_VERSION;
    }
    byte[] b = bytes;
    int at = size;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x80) {
        b[at++] = (byte) c;
      } else if (c < 0x800) {
        b[at++] = (byte) (0xC0 | c >> 6);
        b[at++] = (byte) (0x80 | c & 0x3F);
      } else if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
          int cp = Character.toCodePoint(c, value.charAt(++i));
          b[at++] = (byte) (0xF0 | cp >> 18);
          b[at++] = (byte) (0x80 | cp >> 12 & 0x3F);
          b[at++] = (byte) (0x80 | cp >> 6 & 0x3F);
          b[at++] = (byte) (0x80 | cp & 0x3F);
        } else {
          b[at++] = '?';
        }
      } else {
        b[at++] = (byte) (0xE0 | c >> 12);
        b[at++] = (byte) (0x80 | c >> 6 & 0x3F);
        b[at++] = (byte) (0x80 | c & 0x3F);
      }
    }
    size = at;
  }

  CopyBinaryBuffer int8(long value) {
    putInt(8);
    putLong(value);
    return this;
  }

  /** A timestamptz field from microseconds since the Unix epoch (PostgreSQL counts from 2000-01-01). */
  CopyBinaryBuffer timestamptz(long unixMicros) {
    return int8(unixMicros - PgOutputMessage.POSTGRES_EPOCH_OFFSET_MICROS);
  }

  private void putInt(int value) {
    ensure(4);
    bytes[size++] = (byte) (value >>> 24);
    bytes[size++] = (byte) (value >>> 16);
    bytes[size++] = (byte) (value >>> 8);
    bytes[size++] = (byte) value;
  }

  private void putLong(long value) {
    putInt((int) (value >>> 32));
    putInt((int) value);
  }

  private void put(byte[] source, int offset, int length) {
    ensure(length);
    System.arraycopy(source, offset, bytes, size, length);
    size += length;
  }

  private void ensure(int more) {
    if (size + more > bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
    }
  }
}
