package io.pgtrail.worker;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrail.postgres.plan.GapMessage;
import io.pgtrail.postgres.plan.KeysMessage;
import io.pgtrail.worker.pgoutput.PgOutputMessage.Relation;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import io.pgtrail.worker.pgoutput.TupleData;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Turns decoded pgoutput messages into {@link Change}s: keeps the relation cache (a new Relation message
 * replaces the cached one), the current transaction and its application context (a Bemi {@code _bemi}
 * message for the next row change only; Sequin transaction annotations for the rest of the transaction
 * until cleared), fills unchanged TOAST values from the old image and drops UPDATEs that touched only
 * ignored columns. Values become JSON as {@code to_jsonb()} renders them (docs/values.md): column types and
 * keys are resolved when a Relation message arrives, through {@link TypeCatalog} and {@link PrimaryKeys},
 * its only catalog reads; rows cost none. The event trigger's gap messages for this publication become gap
 * records ({@link SourceGapMessages}); its keys messages declare a relation's primary key ({@link KeysMessage}).
 */
public final class ChangeAssembler {
  /** Bemi's context protocol: a transactional logical message with this prefix carries the JSON context of the next row change. */
  public static final String CONTEXT_PREFIX = "_bemi";
  /** Sequin's transaction annotations: JSON for the changes that follow in the transaction, until cleared. */
  public static final String ANNOTATIONS_SET_PREFIX = "sequin:transaction_annotations.set";
  public static final String ANNOTATIONS_CLEAR_PREFIX = "sequin:transaction_annotations.clear";
  /** A context that is not a JSON object is kept as a string under this key. */
  public static final String MALFORMED_CONTEXT_KEY = "_malformed_context";

  private static final JsonFactory JSON = new JsonFactory();
  /** The rows' JSON, one after another through one generator (see {@link JsonTextBuffer}). */
  private final JsonTextBuffer rowBuffer = new JsonTextBuffer();
  private static final ObjectMapper MAPPER = new ObjectMapper();
  /** Rows whose JSON is longer let their decoded values go as soon as the change is assembled. */
  private static final int HUGE_ROW_CHARS = 1 << 20;
  private static final long TYPE_REFRESH_INTERVAL_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

  private final String database;
  private final ColumnFilter ignoreColumns;
  private final PrimaryKeys primaryKeys;
  private final TypeCatalog types;
  private final Runnable onMalformedContext;
  private final String publication;
  private final Consumer<Change> onGapRecord;
  private final Map<Integer, CachedRelation> relations = new HashMap<>();
  private final Map<Integer, Long> typeRefreshes = new HashMap<>();

  private long transactionId;
  private long committedAtMicros;
  private long commitLsn;
  /** Bemi: the context of the next row change only. */
  private String nextRowContext;
  /** Sequin: the context of every following change of the transaction, until cleared. */
  private String transactionAnnotations;

  private record CachedRelation(Relation relation, int[] keyColumns, PgType[] types) {}

  /** Values of built-in types only (no catalog): for offline decoding. */
  public ChangeAssembler(String database, ColumnFilter ignoreColumns, PrimaryKeys primaryKeys,
      Runnable onMalformedContext) {
    this(database, ignoreColumns, primaryKeys, TypeCatalog.builtinsOnly(), onMalformedContext);
  }

  public ChangeAssembler(String database, ColumnFilter ignoreColumns, PrimaryKeys primaryKeys, TypeCatalog types,
      Runnable onMalformedContext) {
    this(database, ignoreColumns, primaryKeys, types, onMalformedContext, null, gapRecord -> { });
  }

  /**
   * {@code publication}: whose gap messages become gap records (null: any); {@code onGapRecord} hears of each
   * before it goes to {@code out}.
   */
  public ChangeAssembler(String database, ColumnFilter ignoreColumns, PrimaryKeys primaryKeys, TypeCatalog types,
      Runnable onMalformedContext, String publication, Consumer<Change> onGapRecord) {
    this.publication = publication;
    this.onGapRecord = onGapRecord;
    this.database = database;
    this.ignoreColumns = ignoreColumns;
    this.primaryKeys = primaryKeys;
    this.types = types;
    this.onMalformedContext = onMalformedContext;
  }

  /** Handles one message at WAL position {@code lsn}; row changes go to {@code out}. */
  public void accept(PgOutputMessage message, long lsn, long queuedAtMicros, Consumer<Change> out) {
    if (message instanceof PgOutputMessage.Begin begin) {
      transactionId = begin.xid();
      commitLsn = begin.finalLsn();
      committedAtMicros = toUnixMicros(begin.commitTimeMicros());
      clearContexts();
    } else if (message instanceof PgOutputMessage.Commit) {
      clearContexts();
    } else if (message instanceof Relation relation) {
      relations.put(relation.oid(), cache(relation));
      typeRefreshes.remove(relation.oid());
    } else if (message instanceof PgOutputMessage.Type) {
      // user-defined types are read from the catalog with each Relation message (TypeCatalog)
    } else if (message instanceof PgOutputMessage.Message m) {
      if (m.transactional() && GapMessage.PREFIX.equals(m.prefix())) {
        if (!declaredKeys(m)) {
          gapRecord(m, lsn, queuedAtMicros, out);
        }
      } else if (m.transactional()) {
        takeContext(m);
      }
    } else if (message instanceof PgOutputMessage.Insert insert) {
      CachedRelation r = relation(insert.relationOid());
      out.accept(change(r, Change.Operation.CREATE, null, insert.newTuple(), Change.EMPTY_JSON,
          rowJson(r, insert.newTuple(), null), lsn, queuedAtMicros));
    } else if (message instanceof PgOutputMessage.Update update) {
      update(update, lsn, queuedAtMicros, out);
    } else if (message instanceof PgOutputMessage.Delete delete) {
      CachedRelation r = relation(delete.relationOid());
      out.accept(change(r, Change.Operation.DELETE, delete.oldTuple(), null,
          rowJson(r, delete.oldTuple(), null, delete.oldKind() == 'K'), Change.EMPTY_JSON, lsn, queuedAtMicros));
    } else if (message instanceof PgOutputMessage.Truncate truncate) {
      String context = rowContext(); // one statement, one context for all its tables
      for (int oid : truncate.relationOids()) {
        Relation r = relation(oid).relation();
        out.accept(new Change(database, r.namespace(), r.name(), null, Change.Operation.TRUNCATE,
            Change.EMPTY_JSON, Change.EMPTY_JSON, context, committedAtMicros, queuedAtMicros, transactionId, lsn));
      }
    }
    // Origin: replication origins need no action; the change is recorded like any other.
  }

  /**
   * A {@link KeysMessage} from the event trigger: the key of its relation from its next Relation message on
   * (pgoutput sends one before the first change after any DDL on the table). False: not a keys message.
   */
  private boolean declaredKeys(PgOutputMessage.Message m) {
    JsonNode keys;
    try {
      keys = MAPPER.readTree(m.content()).path(KeysMessage.KEYS);
    } catch (IOException | RuntimeException notJson) {
      return false;
    }
    if (!keys.isObject() || !keys.path("relation").canConvertToLong() && !keys.path("relation").isTextual()
        || !keys.path("columns").isArray()) {
      return false;
    }
    int oid = (int) keys.path("relation").asLong();
    List<String> columns = new ArrayList<>();
    keys.get("columns").forEach(column -> columns.add(column.asText()));
    primaryKeys.declare(new KeyDeclaration(oid, keys.path("schema").asText(""), keys.path("table").asText(""), columns,
        commitLsn));
    return true;
  }

  private void gapRecord(PgOutputMessage.Message m, long lsn, long queuedAtMicros, Consumer<Change> out) {
    Change record = SourceGapMessages.gapRecord(m.content(), publication, database, committedAtMicros, queuedAtMicros,
        transactionId, lsn);
    if (record != null) {
      onGapRecord.accept(record);
      out.accept(record);
    }
  }

  private void update(PgOutputMessage.Update update, long lsn, long queuedAtMicros, Consumer<Change> out) {
    CachedRelation r = relation(update.relationOid());
    TupleData old = update.oldTuple();
    if (old != null && update.oldKind() == 'O' && !ignoreColumns.isEmpty()) {
      Relation rel = r.relation();
      if (ignoreColumns.onlyIgnoredChanged(rel.namespace(), rel.name(), changedColumns(rel, old, update.newTuple()))) {
        return;
      }
    }
    String before = old == null ? Change.EMPTY_JSON : rowJson(r, old, null, update.oldKind() == 'K');
    out.accept(change(r, Change.Operation.UPDATE, old, update.newTuple(), before,
        rowJson(r, update.newTuple(), old), lsn, queuedAtMicros));
  }

  private static List<String> changedColumns(Relation relation, TupleData old, TupleData now) {
    List<String> changed = new ArrayList<>();
    for (int i = 0; i < now.size(); i++) {
      if (now.isUnchangedToast(i)) {
        continue;
      }
      if (old.kind(i) != now.kind(i) || !java.util.Objects.equals(old.value(i), now.value(i))) {
        changed.add(relation.columns().get(i).name());
      }
    }
    return changed;
  }

  private Change change(CachedRelation r, Change.Operation operation, TupleData old, TupleData now,
      String before, String after, long lsn, long queuedAtMicros) {
    Relation rel = r.relation();
    Change assembled = new Change(database, rel.namespace(), rel.name(), primaryKey(r, now != null ? now : old, old),
        operation, before, after, rowContext(), committedAtMicros, queuedAtMicros, transactionId, lsn);
    if ((long) before.length() + after.length() > HUGE_ROW_CHARS) {
      releaseValues(old);
      releaseValues(now);
    }
    return assembled;
  }

  private static void releaseValues(TupleData row) {
    if (row != null) {
      row.releaseValues();
    }
  }

  private CachedRelation relation(int oid) {
    CachedRelation r = relations.get(oid);
    if (r == null) {
      throw new IllegalStateException("pgoutput sent a row for relation " + Integer.toUnsignedString(oid)
          + " before its Relation message");
    }
    return r;
  }

  private CachedRelation cache(Relation relation) {
    List<String> keys = primaryKeys.columns(relation);
    int[] keyColumns = new int[keys.size()];
    for (int k = 0; k < keys.size(); k++) {
      keyColumns[k] = -1;
      for (int i = 0; i < relation.columns().size(); i++) {
        if (relation.columns().get(i).name().equals(keys.get(k))) {
          keyColumns[k] = i;
        }
      }
    }
    int[] typeOids = new int[relation.columns().size()];
    for (int i = 0; i < typeOids.length; i++) {
      typeOids[i] = relation.columns().get(i).typeOid();
    }
    return new CachedRelation(relation, keyColumns, types.resolve(typeOids));
  }

  /**
   * One key column: its text form (Bemi's {@code id.toString()}); several: a JSON array of their values in
   * key order, e.g. {@code [42,"eu"]}; no key: null.
   */
  private static String primaryKey(CachedRelation r, TupleData row, TupleData old) {
    int[] keys = r.keyColumns();
    if (keys.length == 0) {
      return null;
    }
    if (keys.length == 1) {
      return keys[0] < 0 ? null : value(row, old, keys[0]);
    }
    StringWriter w = new StringWriter();
    try (JsonGenerator g = JSON.createGenerator(w)) {
      g.writeStartArray();
      for (int column : keys) {
        PgValues.write(g, column < 0 ? PgType.STRING : r.types()[column], column < 0 ? null : value(row, old, column));
      }
      g.writeEndArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return w.toString();
  }

  private static String value(TupleData row, TupleData old, int column) {
    if (row.isUnchangedToast(column) && old != null) {
      return old.value(column);
    }
    return row.value(column);
  }

  private String rowJson(CachedRelation r, TupleData row, TupleData old) {
    return rowJson(r, row, old, false);
  }

  /**
   * A value that does not parse as its resolved type (a composite type altered after the Relation
   * message: pgoutput sends no new one then) makes the relation's types be read again, at most once a
   * minute per relation, and the row be written again with them.
   */
  private String rowJson(CachedRelation r, TupleData row, TupleData old, boolean keyOnly) {
    if (writeRow(r, row, old, keyOnly) || !mayRefreshTypes(r.relation().oid())) {
      return rowText();
    }
    CachedRelation refreshed = cache(r.relation());
    relations.put(r.relation().oid(), refreshed);
    writeRow(refreshed, row, old, keyOnly);
    return rowText();
  }

  private String rowText() {
    try {
      return rowBuffer.text();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private boolean mayRefreshTypes(int relationOid) {
    long now = System.nanoTime();
    Long last = typeRefreshes.get(relationOid);
    if (last != null && now - last < TYPE_REFRESH_INTERVAL_NANOS) {
      return false;
    }
    typeRefreshes.put(relationOid, now);
    return true;
  }

  /** Unchanged TOAST values come from {@code old}; without one they are left out rather than guessed. */
  private boolean writeRow(CachedRelation r, TupleData row, TupleData old, boolean keyOnly) {
    List<PgOutputMessage.Column> columns = r.relation().columns();
    boolean allParsed = true;
    JsonGenerator g = rowBuffer.start(expectedChars(columns, row, old, keyOnly));
    try {
      g.writeStartObject();
      for (int i = 0; i < row.size() && i < columns.size(); i++) {
        if (keyOnly && !columns.get(i).isKey()) {
          continue;
        }
        char kind = row.kind(i);
        String text = row.value(i);
        if (kind == TupleData.UNCHANGED_TOAST) {
          if (old == null || old.kind(i) != TupleData.TEXT) {
            continue;
          }
          text = old.value(i);
        }
        g.writeFieldName(columns.get(i).name());
        allParsed &= PgValues.write(g, r.types()[i], text);
      }
      g.writeEndObject();
    } catch (IOException | RuntimeException e) {
      rowBuffer.discardGenerator();
      throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
    }
    return allParsed;
  }

  /** About the length of the row's JSON: its values' text and its column names. */
  private static long expectedChars(List<PgOutputMessage.Column> columns, TupleData row, TupleData old,
      boolean keyOnly) {
    long chars = 2;
    for (int i = 0; i < row.size() && i < columns.size(); i++) {
      if (keyOnly && !columns.get(i).isKey()) {
        continue;
      }
      String text = row.kind(i) == TupleData.UNCHANGED_TOAST && old != null ? old.value(i) : row.value(i);
      chars += columns.get(i).name().length() + 4 + (text == null ? 4 : text.length());
    }
    return chars;
  }

  private void clearContexts() {
    nextRowContext = null;
    transactionAnnotations = null;
  }

  private void takeContext(PgOutputMessage.Message m) {
    switch (m.prefix()) {
      case CONTEXT_PREFIX -> nextRowContext = contextJson(m.content());
      case ANNOTATIONS_SET_PREFIX -> transactionAnnotations = contextJson(m.content());
      case ANNOTATIONS_CLEAR_PREFIX -> transactionAnnotations = null;
      default -> { } // another application's message
    }
  }

  /**
   * The context of the row change being assembled: its own Bemi context (used up by it, as Bemi pairs one
   * message with the one change that follows), else the transaction's Sequin annotations, else {}.
   */
  private String rowContext() {
    String own = nextRowContext;
    if (own != null) {
      nextRowContext = null;
      return own;
    }
    return transactionAnnotations != null ? transactionAnnotations : Change.EMPTY_JSON;
  }

  private String contextJson(byte[] content) {
    String text = new String(content, StandardCharsets.UTF_8);
    if (text.isBlank()) {
      return Change.EMPTY_JSON; // an emptied context (Supabase: bemi_set_context('')) means none
    }
    try {
      JsonNode node = MAPPER.readTree(text);
      if (node != null && node.isObject()) {
        return text;
      }
    } catch (IOException malformed) {
      // recorded below
    }
    onMalformedContext.run();
    return MAPPER.createObjectNode().put(MALFORMED_CONTEXT_KEY, text).toString();
  }

  static long toUnixMicros(long postgresMicros) {
    return postgresMicros + PgOutputMessage.POSTGRES_EPOCH_OFFSET_MICROS;
  }
}
