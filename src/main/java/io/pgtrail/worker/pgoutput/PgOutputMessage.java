package io.pgtrail.worker.pgoutput;

import java.util.List;

/** One pgoutput protocol message (text tuple format, no in-progress streaming). */
public sealed interface PgOutputMessage {

  /** Microseconds since 2000-01-01 UTC, as PostgreSQL sends timestamps. */
  long POSTGRES_EPOCH_OFFSET_MICROS = 946_684_800_000_000L;

  record Begin(long finalLsn, long commitTimeMicros, long xid) implements PgOutputMessage {}

  record Commit(int flags, long commitLsn, long endLsn, long commitTimeMicros) implements PgOutputMessage {}

  record Origin(long commitLsn, String name) implements PgOutputMessage {}

  /** Replica identity setting: d(efault), n(othing), f(ull), i(ndex). */
  record Relation(int oid, String namespace, String name, char replicaIdentity, List<Column> columns)
      implements PgOutputMessage {
    public boolean fullIdentity() {
      return replicaIdentity == 'f';
    }
  }

  /** {@code flags & 1}: part of the replica identity key. */
  record Column(int flags, String name, int typeOid, int typeModifier) {
    public boolean isKey() {
      return (flags & 1) != 0;
    }
  }

  record Type(int oid, String namespace, String name) implements PgOutputMessage {}

  record Insert(int relationOid, TupleData newTuple) implements PgOutputMessage {}

  /** {@code oldTuple} is null unless the old row was sent ('O' full row, 'K' key only). */
  record Update(int relationOid, char oldKind, TupleData oldTuple, TupleData newTuple) implements PgOutputMessage {}

  record Delete(int relationOid, char oldKind, TupleData oldTuple) implements PgOutputMessage {}

  record Truncate(int options, List<Integer> relationOids) implements PgOutputMessage {
    public boolean cascade() {
      return (options & 1) != 0;
    }

    public boolean restartIdentity() {
      return (options & 2) != 0;
    }
  }

  record Message(boolean transactional, long lsn, String prefix, byte[] content) implements PgOutputMessage {}
}
