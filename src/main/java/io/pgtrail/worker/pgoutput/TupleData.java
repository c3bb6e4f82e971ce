package io.pgtrail.worker.pgoutput;

import java.util.Arrays;

/**
 * The column values of one row as pgoutput sends them: for each column a kind ('n' null, 'u' unchanged
 * TOAST value not sent, 't' text) and, for 't', the value's text form.
 */
public final class TupleData {
  public static final char NULL = 'n';
  public static final char UNCHANGED_TOAST = 'u';
  public static final char TEXT = 't';
  public static final char BINARY = 'b';

  private final char[] kinds;
  private final String[] values;

  public TupleData(char[] kinds, String[] values) {
    this.kinds = kinds;
    this.values = values;
  }

  public int size() {
    return kinds.length;
  }

  public char kind(int column) {
    return kinds[column];
  }

  /** The text form, or null for 'n' and 'u'. */
  public String value(int column) {
    return values[column];
  }

  /**
   * Lets the values go once a change was assembled from them: a 50 MB text must not stay reachable (through
   * the message being handled) while its JSON is copied into the destination's buffer.
   */
  public void releaseValues() {
    Arrays.fill(values, null);
  }

  public boolean isUnchangedToast(int column) {
    return kinds[column] == UNCHANGED_TOAST;
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < kinds.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(kinds[i] == TEXT ? values[i] : "<" + kinds[i] + ">");
    }
    return sb.append(')').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TupleData other && Arrays.equals(kinds, other.kinds) && Arrays.equals(values, other.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }
}
