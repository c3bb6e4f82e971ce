package io.pgtrail.worker;

import java.util.Map;

/**
 * How values of one PostgreSQL type become JSON: the category {@code to_jsonb()} puts the type in
 * (domains already looked through), with what nested values need (the element type of an array and
 * its delimiter, the fields of a composite). Resolved from the source catalog by {@link TypeCatalog}.
 */
public final class PgType {

  /** The JSON form of a value; {@link #STRING} is its text output as a JSON string. */
  public enum Form { STRING, NUMBER, BOOL, JSON, TIMESTAMP, TIMESTAMPTZ, BYTEA, ARRAY, VECTOR, COMPOSITE, HSTORE }

  static final int BOOL = 16;
  static final int BYTEA = 17;
  static final int INT8 = 20;
  static final int INT2 = 21;
  static final int INT2VECTOR = 22;
  static final int INT4 = 23;
  static final int TEXT = 25;
  static final int OID = 26;
  static final int OIDVECTOR = 30;
  static final int JSON = 114;
  static final int FLOAT4 = 700;
  static final int FLOAT8 = 701;
  static final int TIMESTAMP = 1114;
  static final int TIMESTAMPTZ = 1184;
  static final int NUMERIC = 1700;
  static final int JSONB = 3802;

  public static final PgType STRING = new PgType(Form.STRING, null, ',', null, null);
  static final PgType NUMBER = new PgType(Form.NUMBER, null, ',', null, null);
  static final PgType BOOLEAN = new PgType(Form.BOOL, null, ',', null, null);
  static final PgType JSON_VALUE = new PgType(Form.JSON, null, ',', null, null);
  static final PgType TIMESTAMP_VALUE = new PgType(Form.TIMESTAMP, null, ',', null, null);
  static final PgType TIMESTAMPTZ_VALUE = new PgType(Form.TIMESTAMPTZ, null, ',', null, null);
  static final PgType BYTEA_VALUE = new PgType(Form.BYTEA, null, ',', null, null);
  static final PgType HSTORE_VALUE = new PgType(Form.HSTORE, null, ',', null, null);

  /** Built-in array types whose element is a scalar of its own (box uses ';' as delimiter). */
  private static final Map<Integer, Integer> BUILTIN_ARRAYS = Map.ofEntries(
      Map.entry(1000, BOOL), Map.entry(1001, BYTEA), Map.entry(1005, INT2), Map.entry(1007, INT4),
      Map.entry(1016, INT8), Map.entry(1028, OID), Map.entry(1021, FLOAT4), Map.entry(1022, FLOAT8),
      Map.entry(1231, NUMERIC), Map.entry(199, JSON), Map.entry(3807, JSONB), Map.entry(1009, TEXT),
      Map.entry(1015, TEXT), Map.entry(1014, TEXT), Map.entry(1003, TEXT), Map.entry(2951, TEXT),
      Map.entry(1115, TIMESTAMP), Map.entry(1185, TIMESTAMPTZ), Map.entry(1182, TEXT), Map.entry(1183, TEXT),
      Map.entry(1270, TEXT), Map.entry(1187, TEXT), Map.entry(651, TEXT), Map.entry(1041, TEXT),
      Map.entry(1040, TEXT), Map.entry(143, TEXT), Map.entry(1002, TEXT), Map.entry(3643, TEXT),
      Map.entry(1561, TEXT), Map.entry(1563, TEXT), Map.entry(791, TEXT));

  private final Form form;
  private final PgType element;
  private final char delimiter;
  private final String[] fieldNames;
  private final PgType[] fieldTypes;

  private PgType(Form form, PgType element, char delimiter, String[] fieldNames, PgType[] fieldTypes) {
    this.form = form;
    this.element = element;
    this.delimiter = delimiter;
    this.fieldNames = fieldNames;
    this.fieldTypes = fieldTypes;
  }

  static PgType arrayOf(PgType element, char delimiter) {
    return new PgType(Form.ARRAY, element, delimiter, null, null);
  }

  /** int2vector and oidvector: arrays to to_jsonb, but their text output is space separated. */
  static PgType vectorOf(PgType element) {
    return new PgType(Form.VECTOR, element, ' ', null, null);
  }

  static PgType composite(String[] fieldNames, PgType[] fieldTypes) {
    return new PgType(Form.COMPOSITE, null, ',', fieldNames, fieldTypes);
  }

  /** The scalar built-in types to_jsonb does not render as a string, by OID; null for all others. */
  static PgType builtinScalar(int oid) {
    return switch (oid) {
      case INT2, INT4, INT8, FLOAT4, FLOAT8, NUMERIC -> NUMBER;
      case BOOL -> BOOLEAN;
      case JSON, JSONB -> JSON_VALUE;
      case TIMESTAMP -> TIMESTAMP_VALUE;
      case TIMESTAMPTZ -> TIMESTAMPTZ_VALUE;
      case BYTEA -> BYTEA_VALUE;
      default -> null;
    };
  }

  /** Without a catalog: the built-in scalars, their common arrays, the two vectors; anything else a string. */
  public static PgType builtin(int oid) {
    PgType scalar = builtinScalar(oid);
    if (scalar != null) {
      return scalar;
    }
    if (oid == INT2VECTOR) {
      return vectorOf(NUMBER);
    }
    if (oid == OIDVECTOR) {
      return vectorOf(STRING);
    }
    Integer element = BUILTIN_ARRAYS.get(oid);
    if (element != null) {
      return arrayOf(builtin(element), ',');
    }
    return STRING;
  }

  public Form form() {
    return form;
  }

  PgType element() {
    return element;
  }

  char delimiter() {
    return delimiter;
  }

  String[] fieldNames() {
    return fieldNames;
  }

  PgType[] fieldTypes() {
    return fieldTypes;
  }

  @Override
  public String toString() {
    return switch (form) {
      case ARRAY -> element + "[]";
      case VECTOR -> element + " vector";
      case COMPOSITE -> "composite" + java.util.Arrays.toString(fieldNames);
      default -> form.name().toLowerCase(java.util.Locale.ROOT);
    };
  }
}
