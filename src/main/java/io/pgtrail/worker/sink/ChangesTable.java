package io.pgtrail.worker.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The destination {@code changes} table, shaped like Bemi's so its ORM query packages work unchanged:
 * same column names and types, and a unique key that absorbs replays. {@code primary_key} is {@code text}
 * (Bemi: varchar(255)) so long composite keys never fail a write.
 *
 * <p>A new table is range-partitioned on {@code committed_at} (see {@link ChangesPartitions} and
 * docs/store.md): writes go to a small current partition whatever the size of the history, and retention
 * drops whole partitions. A partitioned table's unique keys must contain the partition key, so the primary
 * key is {@code (id, committed_at)} and the replay key is Bemi's plus {@code committed_at} (a replayed change
 * carries its original commit time, so it still collides). An existing table, partitioned or not, is used as
 * it is: the worker never rebuilds or re-indexes a table that holds rows.
 */
public final class ChangesTable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ChangesTable.class);
  public static final String NAME = "changes";
  public static final String DEFAULT_PARTITION = "changes_default";

  private static final Set<String> TEXT = new LinkedHashSet<>(List.of("text", "varchar", "bpchar", "enum"));

  /** The columns the worker writes, in COPY order, with the types its binary COPY can fill. */
  private static final Map<String, Set<String>> WRITTEN_COLUMN_TYPES = new LinkedHashMap<>();

  static {
    WRITTEN_COLUMN_TYPES.put("id", Set.of("uuid"));
    for (String column : List.of("database", "schema", "table", "primary_key", "operation")) {
      WRITTEN_COLUMN_TYPES.put(column, TEXT);
    }
    for (String column : List.of("before", "after", "context")) {
      WRITTEN_COLUMN_TYPES.put(column, Set.of("jsonb"));
    }
    WRITTEN_COLUMN_TYPES.put("committed_at", Set.of("timestamptz"));
    WRITTEN_COLUMN_TYPES.put("queued_at", Set.of("timestamptz"));
    WRITTEN_COLUMN_TYPES.put("transaction_id", Set.of("int8"));
    WRITTEN_COLUMN_TYPES.put("position", Set.of("int8"));
  }

  /** The columns the worker writes (id is a UUIDv7 of the worker's); created_at comes from its default. */
  public static final List<String> WRITTEN_COLUMNS = List.copyOf(WRITTEN_COLUMN_TYPES.keySet());

  /**
   * The GIN indexes take new entries into a pending list that is merged into the index later, in bulk.
   * PostgreSQL's 4 MB default makes the writer merge every few thousand rows, inline (a COPY into this
   * table measured 30,000 rows/s with it, 40,000 with 64 MB); at 64 MB the worker's
   * {@link PendingListCleaner} merges first, on its own connection, and the writer need not.
   */
  static final int GIN_PENDING_LIST_LIMIT_KB = 65536;

  /** Bemi's replay key: one row per change of a row at a WAL position. */
  public static final String UNIQUE_KEY = "\"position\", \"table\", \"schema\", \"database\", \"operation\"";

  /** The replay key of a partitioned table, which must include the partition key. */
  public static final String PARTITIONED_UNIQUE_KEY = UNIQUE_KEY + ", committed_at";

  /** Serves Bemi's record history lookup: {@code "table" = ? AND primary_key = ? ORDER BY committed_at}. */
  public static final String HISTORY_INDEX = "changes_history_index";

  /**
   * How a new table is laid out: range partitions of {@code period} (null: one plain table, as Bemi's),
   * created {@code periodsAhead} periods ahead of the current one.
   */
  public record Layout(PartitionPeriod period, int periodsAhead) {
    public static final Layout DEFAULT = new Layout(PartitionPeriod.WEEKLY, 2);
    public static final Layout UNPARTITIONED = new Layout(null, 0);

    public Layout {
      if (periodsAhead < 0) {
        throw new IllegalArgumentException("periodsAhead must not be negative");
      }
    }

    public boolean partitioned() {
      return period != null;
    }
  }

  private ChangesTable() {}

  /** The statements that create the table and its indexes (and, when partitioned, its default partition). */
  public static List<String> createStatements(Layout layout) {
    List<String> statements = new ArrayList<>();
    String keys = layout.partitioned()
        ? " PRIMARY KEY (id, committed_at),"
            + " CONSTRAINT changes_position_table_schema_database_operation_unique UNIQUE (" + PARTITIONED_UNIQUE_KEY
            + "))"
            + " PARTITION BY RANGE (committed_at)"
        : " PRIMARY KEY (id),"
            + " CONSTRAINT changes_position_table_schema_database_operation_unique UNIQUE (" + UNIQUE_KEY + "))";
    statements.add("CREATE TABLE IF NOT EXISTS changes ("
        + " id uuid NOT NULL DEFAULT gen_random_uuid(),"
        + " \"database\" varchar(255) NOT NULL,"
        + " \"schema\" varchar(255) NOT NULL,"
        + " \"table\" varchar(255) NOT NULL,"
        + " primary_key text,"
        + " operation text NOT NULL CHECK (operation IN ('CREATE', 'UPDATE', 'DELETE', 'TRUNCATE', 'MESSAGE')),"
        + " \"before\" jsonb NOT NULL DEFAULT '{}',"
        + " \"after\" jsonb NOT NULL DEFAULT '{}',"
        + " context jsonb NOT NULL DEFAULT '{}',"
        + " committed_at timestamptz NOT NULL,"
        + " queued_at timestamptz NOT NULL,"
        + " created_at timestamptz NOT NULL DEFAULT now(),"
        + " transaction_id bigint NOT NULL,"
        + " \"position\" bigint NOT NULL," + keys);
    if (layout.partitioned()) {
      statements.add("CREATE TABLE IF NOT EXISTS " + DEFAULT_PARTITION + " PARTITION OF changes DEFAULT");
    }
    statements.addAll(indexStatements());
    return statements;
  }

  /**
   * Bemi's indexes, except that its {@code ("table")} index gives way to the history index, which serves the
   * same lookups by its leading column and also the record history, in {@code committed_at} order.
   */
  static List<String> indexStatements() {
    return indexStatements(NAME);
  }

  /**
   * The same indexes on {@code table} (named after it): a table built apart and then ATTACHed as a partition
   * (the bench's pre-fill) has them built in bulk, and ATTACH adopts them instead of building its own.
   */
  public static List<String> indexStatements(String table) {
    return List.of(
        "CREATE INDEX IF NOT EXISTS " + table + "_committed_at_index ON " + table + " (committed_at)",
        "CREATE INDEX IF NOT EXISTS " + (table.equals(NAME) ? HISTORY_INDEX : table + "_history_index") + " ON "
            + table + " (\"table\", primary_key, committed_at)",
        "CREATE INDEX IF NOT EXISTS " + table + "_primary_key_index ON " + table + " (primary_key)",
        "CREATE INDEX IF NOT EXISTS " + table + "_operation_index ON " + table + " (operation)",
        ginIndex(table, table + "_before_index", "\"before\""),
        ginIndex(table, table + "_after_index", "\"after\""),
        ginIndex(table, table + "_context_index", "context"));
  }

  /** The keys of a partition of the partitioned table, as constraints (ATTACH adopts them). */
  public static List<String> partitionKeyStatements(String table) {
    return List.of(
        "ALTER TABLE " + table + " ADD PRIMARY KEY (id, committed_at)",
        "ALTER TABLE " + table + " ADD UNIQUE (" + PARTITIONED_UNIQUE_KEY + ")");
  }

  private static String ginIndex(String table, String name, String column) {
    return "CREATE INDEX IF NOT EXISTS " + name + " ON " + table + " USING gin (" + column + " jsonb_path_ops)"
        + " WITH (gin_pending_list_limit = " + GIN_PENDING_LIST_LIMIT_KB + ")";
  }

  /**
   * Creates the table with the default layout if absent, and checks its columns; partitions are added only to
   * a table this call created (the layout of an existing one is the store maintenance's business).
   */
  public static void ensure(Connection destination) throws SQLException {
    ensure(destination, Layout.DEFAULT, Instant.now(), false);
  }

  /**
   * Creates the table if absent (in its own transaction) and checks the columns of one that was there; a
   * partitioned table then gets its partitions up to {@code layout.periodsAhead()} periods after {@code now}.
   */
  public static void ensure(Connection destination, Layout layout, Instant now) throws SQLException {
    ensure(destination, layout, now, true);
  }

  private static void ensure(Connection destination, Layout layout, Instant now, boolean partitionsOfAnExistingTable)
      throws SQLException {
    boolean autoCommit = destination.getAutoCommit();
    destination.setAutoCommit(false);
    boolean partitioned;
    boolean existed;
    try (Statement s = destination.createStatement()) {
      // one creator at a time: two workers starting together must not race on CREATE TABLE
      s.execute("SELECT pg_advisory_xact_lock(hashtext('pgtrail.changes'))");
      existed = exists(destination);
      if (!existed) {
        List<String> statements = createStatements(layout);
        for (String sql : statements) {
          s.execute(sql);
        }
      }
      requireWritableColumns(destination);
      partitioned = isPartitioned(destination);
      destination.commit();
    } catch (SQLException e) {
      destination.rollback();
      throw e;
    } finally {
      destination.setAutoCommit(autoCommit);
    }
    if (partitioned && (partitionsOfAnExistingTable || !existed)) {
      try {
        ChangesPartitions.ensureAhead(destination, layout.period() == null ? Layout.DEFAULT.period() : layout.period(),
            now, layout.periodsAhead());
      } catch (SQLException e) {
        // the default partition takes the writes meanwhile; the store maintenance tries again
        LOG.warn("could not create the partitions ahead of changes now ({}); trying again later", e.getMessage());
      }
    }
  }

  static boolean exists(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, NAME);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Whether the visible {@code changes} is a partitioned table. */
  public static boolean isPartitioned(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(?)")) {
      ps.setString(1, NAME);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /**
   * Checks that the columns the worker writes exist with types its binary COPY can fill: a table created
   * by someone else (Bemi, a migration) must match Bemi's schema, or the first write would fail with a
   * less helpful message. Text columns may be text, varchar, char or an enum; a domain counts as its base.
   */
  static void requireWritableColumns(Connection destination) throws SQLException {
    Map<String, String> actual = new HashMap<>();
    try (PreparedStatement ps = destination.prepareStatement(
        "SELECT a.attname, CASE WHEN b.typtype = 'e' THEN 'enum' ELSE b.typname END"
            + " FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
            + " JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END"
            + " WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped")) {
      ps.setString(1, NAME);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          actual.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    List<String> problems = new ArrayList<>();
    for (String column : WRITTEN_COLUMNS) {
      Set<String> accepted = WRITTEN_COLUMN_TYPES.get(column);
      String type = actual.get(column);
      if (type == null) {
        problems.add(column + " is missing");
      } else if (!accepted.contains(type)) {
        problems.add(column + " is " + type + " (expected " + String.join(" or ", accepted) + ")");
      }
    }
    if (!problems.isEmpty()) {
      throw new SQLException("the destination table " + NAME + " does not have Bemi's columns: "
          + String.join("; ", problems) + ". Alter those columns, or point the worker at a database without a "
          + NAME + " table (it creates one)", "42804");
    }
  }

  /** The columns of {@link #WRITTEN_COLUMNS} but {@code id}: what a single-row INSERT binds (id takes its default). */
  public static String columnList() {
    return quoted(WRITTEN_COLUMNS.subList(1, WRITTEN_COLUMNS.size()));
  }

  /** All of {@link #WRITTEN_COLUMNS}, in COPY order (the worker's binary COPY carries its UUIDv7 ids). */
  public static String copyColumnList() {
    return quoted(WRITTEN_COLUMNS);
  }

  private static String quoted(List<String> columns) {
    StringBuilder sb = new StringBuilder();
    for (String column : columns) {
      sb.append(sb.length() == 0 ? "" : ", ").append('"').append(column).append('"');
    }
    return sb.toString();
  }
}
