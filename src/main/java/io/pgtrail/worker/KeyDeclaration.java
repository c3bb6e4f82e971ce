package io.pgtrail.worker;

import java.util.List;

/**
 * A table's primary key as the stream declared it (the event trigger's keys message): relation OID,
 * schema and table at that time, key columns in key order (empty: no primary key), and the commit position
 * of the declaring transaction, from which on it holds.
 */
public record KeyDeclaration(int relationOid, String schema, String table, List<String> columns, long commitLsn) {
  public KeyDeclaration {
    columns = List.copyOf(columns);
  }
}
