package io.pgtrail.postgres.catalog;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL predicates and expressions that decide what pgtrail tracks. Every place that needs the
 * answer (the setup and teardown plan, the event trigger, preflight, the Java catalog queries) takes
 * it from here, so there is one definition of "in scope", "publishable" and "where the context
 * function lives".
 */
public final class TrackingSql {
  /** Recognises a Bemi-compatible {@code changes} table: pgtrail's destination (or Bemi's own). */
  public static final List<String> CHANGES_COLUMNS = List.of("primary_key", "committed_at", "transaction_id", "position");
  /** Marker written as the comment of every context trigger pgtrail creates. */
  public static final String TRIGGER_MARKER_KEY = "managedBy";
  /** Comment on the context function when pgtrail created it (shared by every pgtrail source). */
  public static final String FUNCTION_MARKER = "{\"managedBy\": \"pgtrail\"}";

  private TrackingSql() {}

  /**
   * Tables pgtrail may track at all, over {@code c} (pg_class) and {@code n} (pg_namespace): permanent
   * ordinary or partitioned top-level tables outside the system schemas, not members of an extension,
   * and not pgtrail's own destination tables (recording them would record pgtrail's writes forever).
   */
  public static String trackable(String c, String n) {
    return c + ".relkind IN ('r', 'p') AND NOT " + c + ".relispartition AND " + c + ".relpersistence = 'p'"
        + " AND " + n + ".nspname NOT IN ('pg_catalog', 'information_schema')"
        + " AND " + n + ".nspname NOT LIKE 'pg\\_toast%' AND " + n + ".nspname NOT LIKE 'pg\\_temp%'"
        + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass"
        + " AND d.objid = " + c + ".oid AND d.deptype = 'e')"
        + " AND NOT " + ownTable(c);
  }

  /**
   * pgtrail's own tables: a {@code changes} table with Bemi's columns, and the {@code pgtrail_*} tables
   * (progress, dead letters) beside it.
   */
  public static String ownTable(String c) {
    String changesShape = "(SELECT count(*) FROM pg_catalog.pg_attribute a WHERE a.attrelid = %s.oid"
        + " AND NOT a.attisdropped AND a.attname IN (" + literals(CHANGES_COLUMNS) + ")) = " + CHANGES_COLUMNS.size();
    return "(" + c + ".relname = 'changes' AND " + changesShape.formatted(c)
        + " OR " + c + ".relname LIKE 'pgtrail\\_%' AND EXISTS (SELECT 1 FROM pg_catalog.pg_class own"
        + " WHERE own.relnamespace = " + c + ".relnamespace AND own.relname = 'changes' AND "
        + changesShape.formatted("own") + "))";
  }

  /** The scope's include and exclude rules over {@code c} and {@code n}, on top of {@link #trackable}. */
  public static String inScope(TrackingScope scope, String c, String n) {
    List<String> parts = new ArrayList<>();
    parts.add(trackable(c, n));
    if (!scope.allTables()) {
      List<String> included = new ArrayList<>();
      if (!scope.effectiveSchemas().isEmpty()) {
        included.add(n + ".nspname IN (" + literals(scope.effectiveSchemas()) + ")");
      }
      if (!scope.tables().isEmpty()) {
        included.add("(" + n + ".nspname, " + c + ".relname) IN (" + pairs(scope.tables()) + ")");
      }
      parts.add("(" + String.join(" OR ", included) + ")");
    }
    if (!scope.excludeTables().isEmpty()) {
      parts.add("(" + n + ".nspname, " + c + ".relname) NOT IN (" + pairs(scope.excludeTables()) + ")");
    }
    return String.join("\n      AND ", parts);
  }

  /**
   * The primary key column names of relation {@code relid} as a {@code text[]} in key order, NULL when it
   * has none: the event trigger's {@code keys} message and the worker's catalog read use this one query.
   */
  public static String primaryKeyColumns(String relid) {
    return "SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.ord)"
        + " FROM pg_catalog.pg_index i"
        + " CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)"
        + " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
        + " WHERE i.indrelid = " + relid + " AND i.indisprimary";
  }

  /**
   * Whether a relation's own UPDATE and DELETE keep working once it is published: FULL, USING an index
   * that still exists, or DEFAULT with a primary key. NOTHING (or DEFAULT without a key) would make them fail.
   */
  public static String usableIdentity(String x) {
    // PostgreSQL 18: FULL holding a virtual generated column (never publishable) fails UPDATE and DELETE
    return "(" + x + ".relreplident = 'f' AND " + GeneratedColumns.withoutVirtualColumns(x)
        + " OR " + x + ".relreplident = 'i' AND EXISTS (SELECT 1 FROM pg_catalog.pg_index ri WHERE ri.indrelid = "
        + x + ".oid AND ri.indisreplident)"
        + " OR " + x + ".relreplident = 'd' AND EXISTS (SELECT 1 FROM pg_catalog.pg_index pk WHERE pk.indrelid = "
        + x + ".oid AND pk.indisprimary))";
  }

  /** A top-level table {@code c} may be published: it and every partition below it have a usable identity. */
  public static String publishable(String c) {
    return "(" + usableIdentity(c) + " AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(" + c + ".oid) pt"
        + " JOIN pg_catalog.pg_class part ON part.oid = pt.relid WHERE pt.relid <> " + c + ".oid AND NOT "
        + usableIdentity("part") + "))";
  }

  /** {@code c} itself and every partition below it, as rows {@code x} of pg_class, for EXISTS (... AND cond). */
  private static String treeOf(String c) {
    return "SELECT 1 FROM pg_catalog.pg_class x WHERE x.oid IN (SELECT " + c + ".oid UNION"
        + " SELECT tr.relid FROM pg_catalog.pg_partition_tree(" + c + ".oid) tr)";
  }

  /** Setup can give {@code x} REPLICA IDENTITY FULL: its identity is DEFAULT and the current role owns it. */
  private static String canSetFull(String x) {
    return "(" + x + ".relreplident = 'd' AND pg_catalog.pg_has_role(" + x + ".relowner, 'USAGE') AND "
        + GeneratedColumns.withoutVirtualColumns(x) + ")";
  }

  /** Predicted for setup by the current role: {@code c} will be left out (some relation of its tree stays unusable). */
  public static String willBeLeftOut(String c) {
    return "EXISTS (" + treeOf(c) + " AND NOT " + usableIdentity("x") + " AND NOT " + canSetFull("x") + ")";
  }

  /** Predicted: {@code c} is tracked with key-only before images (USING INDEX, or DEFAULT with a key not ours). */
  public static String keyOnlyBeforeImages(String c) {
    return "EXISTS (" + treeOf(c) + " AND " + usableIdentity("x") + " AND x.relreplident <> 'f' AND NOT "
        + canSetFull("x") + ")";
  }

  /** The relation {@code relid} (an oid expression) is a member of the publication. */
  public static String member(String publication, String relid) {
    return "EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication pb"
        + " ON pb.oid = pr.prpubid WHERE pb.pubname = " + Identifiers.literal(publication) + " AND pr.prrelid = "
        + relid + ")";
  }

  /**
   * The one answer to "which {@code _bemi_row_trigger_func()} do context triggers call": the one in
   * {@code public} when there is one (where Bemi's migration puts it), else the first by schema name.
   * NULL when there is none.
   */
  public static String contextFunctionSchema() {
    return "(SELECT fn.nspname FROM pg_catalog.pg_proc fp JOIN pg_catalog.pg_namespace fn ON fn.oid = fp.pronamespace"
        + " WHERE fp.proname = '" + Catalog.CONTEXT_FUNCTION + "' AND fp.pronargs = 0"
        + " ORDER BY fn.nspname <> 'public', fn.nspname LIMIT 1)";
  }

  /** Where pgtrail creates its routines: public when it exists, else the first schema the scope names. */
  public static String routineSchema(TrackingScope scope) {
    List<String> candidates = new ArrayList<>(scope.schemasReferenced());
    candidates.remove(TrackingScope.DEFAULT_SCHEMA);
    candidates.add(0, TrackingScope.DEFAULT_SCHEMA);
    StringBuilder order = new StringBuilder("CASE rs.nspname");
    for (int i = 0; i < candidates.size(); i++) {
      order.append(" WHEN ").append(Identifiers.literal(candidates.get(i))).append(" THEN ").append(i);
    }
    order.append(" END");
    return "(SELECT rs.nspname FROM pg_catalog.pg_namespace rs WHERE rs.nspname IN (" + literals(candidates)
        + ") ORDER BY " + order + " LIMIT 1)";
  }

  /** The comment pgtrail writes on a context trigger it creates, naming the publication it was made for. */
  public static String triggerMarker(String publication) {
    return "{\"" + TRIGGER_MARKER_KEY + "\": \"pgtrail\", \"publication\": \"" + publication + "\"}";
  }

  public static String literals(List<String> values) {
    return values.stream().map(Identifiers::literal).collect(Collectors.joining(", "));
  }

  private static String pairs(List<QualifiedName> names) {
    return names.stream()
        .map(t -> "(" + Identifiers.literal(t.schema()) + "::name, " + Identifiers.literal(t.table()) + "::name)")
        .collect(Collectors.joining(", "));
  }
}
