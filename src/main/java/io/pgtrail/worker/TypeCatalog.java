package io.pgtrail.worker;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resolves the column types of a pgoutput Relation message into {@link PgType}s from the source's
 * {@code pg_type}, the way {@code to_jsonb()} categorizes them: domains by their base type, true arrays
 * (built-in or user-defined, any element type) by their element, composites by their fields, the
 * {@code hstore} extension by its cast to json, everything else as its text output.
 *
 * <p>Resolution happens when a Relation message arrives (pgoutput sends one before the first change of a
 * table in a session and again after its definition changed), never per row. Built-in types are cached
 * for the session; user-defined types are read again with each Relation message, so an altered
 * composite or domain is seen. A type that is gone from the catalog (dropped after the change was
 * written) is recorded as its text output, as is every type when there is no catalog connection.
 */
public final class TypeCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(TypeCatalog.class);
  private static final int FIRST_NORMAL_OID = 16384;
  private static final int MAX_DEPTH = 32;

  private static final String TYPE_SQL = "SELECT t.typtype, t.typelem, t.typbasetype, t.typrelid,"
      + " t.typsubscript = 'pg_catalog.array_subscript_handler'::pg_catalog.regproc AS true_array,"
      + " (SELECT e.typdelim FROM pg_catalog.pg_type e WHERE e.oid = t.typelem) AS element_delimiter,"
      + " (SELECT p.proname FROM pg_catalog.pg_cast c JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc"
      + "   WHERE c.castsource = t.oid AND c.casttarget = 'pg_catalog.json'::pg_catalog.regtype) AS json_cast"
      + " FROM pg_catalog.pg_type t WHERE t.oid = ?::pg_catalog.oid";
  private static final String FIELDS_SQL = "SELECT a.attname, a.atttypid FROM pg_catalog.pg_attribute a"
      + " WHERE a.attrelid = ?::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

  private final Connection source;
  private final Map<Integer, PgType> builtins = new HashMap<>();

  private TypeCatalog(Connection source) {
    this.source = source;
  }

  /** Reads the catalog over an ordinary connection to the source database. */
  public static TypeCatalog fromCatalog(Connection source) {
    return new TypeCatalog(source);
  }

  /** No catalog: built-in scalars and arrays of them only (tools and tests that decode offline). */
  public static TypeCatalog builtinsOnly() {
    return new TypeCatalog(null);
  }

  /** The JSON form of each type OID, in order. */
  public PgType[] resolve(int[] typeOids) {
    Map<Integer, PgType> userTypes = new HashMap<>();
    PgType[] types = new PgType[typeOids.length];
    for (int i = 0; i < typeOids.length; i++) {
      types[i] = resolve(typeOids[i], userTypes, 0);
    }
    return types;
  }

  private PgType resolve(int oid, Map<Integer, PgType> userTypes, int depth) {
    Map<Integer, PgType> cache = builtinOid(oid) ? builtins : userTypes;
    PgType known = cache.get(oid);
    if (known != null) {
      return known;
    }
    PgType type = source == null || depth > MAX_DEPTH ? PgType.builtin(oid) : read(oid, userTypes, depth);
    cache.put(oid, type);
    return type;
  }

  private PgType read(int oid, Map<Integer, PgType> userTypes, int depth) {
    PgType scalar = PgType.builtinScalar(oid);
    if (scalar != null) {
      return scalar;
    }
    try (PreparedStatement ps = source.prepareStatement(TYPE_SQL)) {
      ps.setLong(1, Integer.toUnsignedLong(oid));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          LOG.debug("type {} is no longer in the source catalog; its values are recorded as text",
              Integer.toUnsignedString(oid));
          return PgType.builtin(oid);
        }
        char typtype = rs.getString("typtype").charAt(0);
        int element = (int) rs.getLong("typelem");
        if (typtype == 'd') {
          return resolve((int) rs.getLong("typbasetype"), userTypes, depth + 1);
        }
        if (oid == PgType.INT2VECTOR || oid == PgType.OIDVECTOR) {
          return PgType.vectorOf(resolve(element, userTypes, depth + 1));
        }
        if (element != 0 && rs.getBoolean("true_array")) {
          String delimiter = rs.getString("element_delimiter");
          return PgType.arrayOf(resolve(element, userTypes, depth + 1),
              delimiter == null || delimiter.isEmpty() ? ',' : delimiter.charAt(0));
        }
        if (typtype == 'c') {
          return composite((int) rs.getLong("typrelid"), userTypes, depth);
        }
        if (!builtinOid(oid) && "hstore_to_json".equals(rs.getString("json_cast"))) {
          return PgType.HSTORE_VALUE;
        }
        return PgType.STRING;
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read type " + Integer.toUnsignedString(oid)
          + " from the source catalog: " + e.getMessage(), e);
    }
  }

  private PgType composite(int relid, Map<Integer, PgType> userTypes, int depth) throws SQLException {
    List<String> names = new ArrayList<>();
    List<Integer> typeOids = new ArrayList<>();
    try (PreparedStatement ps = source.prepareStatement(FIELDS_SQL)) {
      ps.setLong(1, Integer.toUnsignedLong(relid));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          names.add(rs.getString(1));
          typeOids.add((int) rs.getLong(2));
        }
      }
    }
    PgType[] fieldTypes = new PgType[typeOids.size()];
    for (int i = 0; i < fieldTypes.length; i++) {
      fieldTypes[i] = resolve(typeOids.get(i), userTypes, depth + 1);
    }
    return PgType.composite(names.toArray(String[]::new), fieldTypes);
  }

  private static boolean builtinOid(int oid) {
    return Integer.compareUnsigned(oid, FIRST_NORMAL_OID) < 0;
  }
}
