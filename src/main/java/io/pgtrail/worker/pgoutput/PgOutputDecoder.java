package io.pgtrail.worker.pgoutput;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes pgoutput messages from the bytes of one XLogData payload. Pure: no I/O, no state. Supports
 * protocol versions 1-4 without the {@code streaming}, {@code two_phase} and {@code binary} options
 * (the worker never asks for them), so no message carries an in-progress transaction id.
 */
public final class PgOutputDecoder {

  private PgOutputDecoder() {}

  /** The highest protocol version worth asking for on a server of this major (all decode the same here). */
  public static int protocolVersionFor(int serverMajor) {
    if (serverMajor >= 16) {
      return 4;
    }
    if (serverMajor == 15) {
      return 3;
    }
    return 1;
  }

  public static PgOutputMessage decode(ByteBuffer buffer) {
    ByteBuffer b = buffer.slice();
    char tag = (char) b.get();
    try {
      return switch (tag) {
        case 'B' -> new PgOutputMessage.Begin(b.getLong(), b.getLong(), Integer.toUnsignedLong(b.getInt()));
        case 'C' -> new PgOutputMessage.Commit(b.get(), b.getLong(), b.getLong(), b.getLong());
        case 'O' -> new PgOutputMessage.Origin(b.getLong(), cString(b));
        case 'R' -> relation(b);
        case 'Y' -> new PgOutputMessage.Type(b.getInt(), cString(b), cString(b));
        case 'I' -> insert(b);
        case 'U' -> update(b);
        case 'D' -> delete(b);
        case 'T' -> truncate(b);
        case 'M' -> message(b);
        default -> throw new IllegalArgumentException("unsupported pgoutput message type '" + tag
            + "' (streaming and two-phase messages are never requested)");
      };
    } catch (BufferUnderflowException e) {
      throw new IllegalArgumentException("truncated pgoutput message of type '" + tag + "'", e);
    }
  }

  private static PgOutputMessage.Relation relation(ByteBuffer b) {
    int oid = b.getInt();
    String namespace = cString(b);
    String name = cString(b);
    char replicaIdentity = (char) b.get();
    int count = Short.toUnsignedInt(b.getShort());
    List<PgOutputMessage.Column> columns = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      columns.add(new PgOutputMessage.Column(b.get(), cString(b), b.getInt(), b.getInt()));
    }
    return new PgOutputMessage.Relation(oid, namespace, name, replicaIdentity, List.copyOf(columns));
  }

  private static PgOutputMessage.Insert insert(ByteBuffer b) {
    int oid = b.getInt();
    expect(b, 'N', "Insert");
    return new PgOutputMessage.Insert(oid, tuple(b));
  }

  private static PgOutputMessage.Update update(ByteBuffer b) {
    int oid = b.getInt();
    char next = (char) b.get();
    char oldKind = 0;
    TupleData old = null;
    if (next == 'K' || next == 'O') {
      oldKind = next;
      old = tuple(b);
      next = (char) b.get();
    }
    if (next != 'N') {
      throw new IllegalArgumentException("pgoutput Update without new tuple (got '" + next + "')");
    }
    return new PgOutputMessage.Update(oid, oldKind, old, tuple(b));
  }

  private static PgOutputMessage.Delete delete(ByteBuffer b) {
    int oid = b.getInt();
    char kind = (char) b.get();
    if (kind != 'K' && kind != 'O') {
      throw new IllegalArgumentException("pgoutput Delete without old tuple (got '" + kind + "')");
    }
    return new PgOutputMessage.Delete(oid, kind, tuple(b));
  }

  private static PgOutputMessage.Truncate truncate(ByteBuffer b) {
    int count = b.getInt();
    int options = b.get();
    List<Integer> oids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      oids.add(b.getInt());
    }
    return new PgOutputMessage.Truncate(options, List.copyOf(oids));
  }

  private static PgOutputMessage.Message message(ByteBuffer b) {
    boolean transactional = (b.get() & 1) != 0;
    long lsn = b.getLong();
    String prefix = cString(b);
    byte[] content = new byte[b.getInt()];
    b.get(content);
    return new PgOutputMessage.Message(transactional, lsn, prefix, content);
  }

  private static TupleData tuple(ByteBuffer b) {
    int count = Short.toUnsignedInt(b.getShort());
    char[] kinds = new char[count];
    String[] values = new String[count];
    for (int i = 0; i < count; i++) {
      char kind = (char) b.get();
      kinds[i] = kind;
      switch (kind) {
        case TupleData.NULL, TupleData.UNCHANGED_TOAST -> { }
        case TupleData.TEXT -> values[i] = utf8(b, b.getInt());
        case TupleData.BINARY -> throw new IllegalArgumentException(
            "pgoutput sent a binary column value; the worker asks for text values only");
        default -> throw new IllegalArgumentException("unknown pgoutput column kind '" + kind + "'");
      }
    }
    return new TupleData(kinds, values);
  }

  private static void expect(ByteBuffer b, char wanted, String what) {
    char got = (char) b.get();
    if (got != wanted) {
      throw new IllegalArgumentException("pgoutput " + what + ": expected '" + wanted + "', got '" + got + "'");
    }
  }

  private static String utf8(ByteBuffer b, int length) {
    String s;
    if (b.hasArray()) {
      s = new String(b.array(), b.arrayOffset() + b.position(), length, StandardCharsets.UTF_8);
      b.position(b.position() + length);
    } else {
      byte[] bytes = new byte[length];
      b.get(bytes);
      s = new String(bytes, StandardCharsets.UTF_8);
    }
    return s;
  }

  private static String cString(ByteBuffer b) {
    int start = b.position();
    int end = start;
    while (b.get(end) != 0) {
      end++;
    }
    String s = utf8(b, end - start);
    b.get(); // the terminating zero
    return s;
  }
}
