package io.pgtrail.worker;

import io.pgtrail.postgres.catalog.TrackingSql;
import io.pgtrail.postgres.plan.KeysMessage;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary key columns of a relation, decided when its Relation message arrives and cached with it.
 *
 * <p>pgoutput flags the replica identity columns in the Relation message. Under the default identity
 * those are the primary key; under REPLICA IDENTITY FULL (what pgtrail sets, for complete {@code before}
 * images) every column is flagged, so the primary key comes from the stream itself when it can: the event
 * trigger sends each published table's key in the transaction of every CREATE TABLE and ALTER TABLE on it
 * ({@link KeysMessage}), before the changes that follow. Otherwise it comes from the source catalog; a table
 * can be dropped before the worker reads its changes, so keys are remembered by relation OID: all primary
 * keys of the database are read when a session starts, each Relation message refreshes its table's entry,
 * and the {@link Memory} outlives the session; the worker keeps the declarations in the destination too
 * ({@code pgtrail_keys}), so a new process knows those read by earlier ones. Rules, in order (docs/values.md):
 * <ol>
 *   <li>the key the stream declared for the relation (its last keys message read), when the Relation
 *       message still has all its columns;</li>
 *   <li>the primary key in the catalog (now, or remembered from earlier), in key order;</li>
 *   <li>otherwise, unless the identity is FULL, the flagged identity columns (a table without primary
 *       key using REPLICA IDENTITY USING INDEX is keyed by that index);</li>
 *   <li>otherwise, for a table the worker never saw in the catalog, its {@code id} column if it has one
 *       (the Bemi convention), logged;</li>
 *   <li>otherwise none: {@code primary_key} is NULL.</li>
 * </ol>
 */
@FunctionalInterface
public interface PrimaryKeys {

  /** Key column names in key order; empty when the table has none. */
  List<String> columns(PgOutputMessage.Relation relation);

  /**
   * The stream declared the key of a relation from the transaction committed at the declaration's
   * position on: it wins over the catalog for the Relation messages that follow.
   */
  default void declare(KeyDeclaration declaration) {}

  /** These keys, telling {@code listener} of each declaration too (the worker persists them with its batch). */
  default PrimaryKeys tellingDeclarationsTo(Consumer<KeyDeclaration> listener) {
    PrimaryKeys keys = this;
    return new PrimaryKeys() {
      @Override
      public List<String> columns(PgOutputMessage.Relation relation) {
        return keys.columns(relation);
      }

      @Override
      public void declare(KeyDeclaration declaration) {
        keys.declare(declaration);
        listener.accept(declaration);
      }
    };
  }

  /** The identity columns pgoutput flags (right for DEFAULT and USING INDEX identities). */
  static List<String> flagged(PgOutputMessage.Relation relation) {
    List<String> keys = new ArrayList<>();
    for (PgOutputMessage.Column column : relation.columns()) {
      if (column.isKey()) {
        keys.add(column.name());
      }
    }
    return keys;
  }

  /** Asks the source's catalog (over an ordinary connection), remembering keys for this session only. */
  static PrimaryKeys fromCatalog(Connection source) {
    return fromCatalog(source, new Memory());
  }

  /** Asks the source's catalog, first loading every primary key of the database into {@code memory}. */
  static PrimaryKeys fromCatalog(Connection source, Memory memory) {
    CatalogKeys keys = new CatalogKeys(source, memory);
    keys.loadAll();
    return keys;
  }

  /**
   * Primary keys seen, by relation OID (an empty list: the table had none); kept across sessions. Keys the
   * stream declared are kept apart, with the commit position of their transaction: a new session replays
   * everything committed after its slot's confirmed position, so it forgets those declared later
   * ({@link #forgetDeclaredAfter}), which it reads again in order, and restores those the destination kept
   * from earlier processes ({@link #restore}).
   */
  final class Memory {
    private final Map<Integer, List<String>> byRelation = new ConcurrentHashMap<>();
    private final Map<Integer, KeyDeclaration> declared = new ConcurrentHashMap<>();

    List<String> get(int relationOid) {
      return byRelation.get(relationOid);
    }

    void put(int relationOid, List<String> columns) {
      byRelation.put(relationOid, List.copyOf(columns));
    }

    /** A relation's declaration, unless one committed later is known. */
    void declare(KeyDeclaration declaration) {
      declared.merge(declaration.relationOid(), declaration,
          (known, now) -> Long.compareUnsigned(now.commitLsn(), known.commitLsn()) >= 0 ? now : known);
    }

    List<String> declared(int relationOid) {
      KeyDeclaration d = declared.get(relationOid);
      return d == null ? null : d.columns();
    }

    /** Forgets the keys declared by transactions committed after {@code confirmedLsn} (they will be replayed). */
    public void forgetDeclaredAfter(long confirmedLsn) {
      declared.values().removeIf(d -> Long.compareUnsigned(d.commitLsn(), confirmedLsn) > 0);
    }

    /** Declarations kept in the destination by earlier processes (each relation's latest up to the resume position). */
    public void restore(List<KeyDeclaration> declarations) {
      declarations.forEach(this::declare);
    }

    public int size() {
      return byRelation.size();
    }
  }

  /** The catalog-backed rules of the class comment. */
  final class CatalogKeys implements PrimaryKeys {
    private static final Logger LOG = LoggerFactory.getLogger(PrimaryKeys.class);
    private static final String KEY_COLUMNS = TrackingSql.primaryKeyColumns("c.oid");
    private static final String ONE_TABLE = "SELECT (" + KEY_COLUMNS + ") FROM pg_catalog.pg_class c"
        + " WHERE c.oid = ?::pg_catalog.oid";
    private static final String ALL_TABLES = "SELECT c.oid, (" + KEY_COLUMNS + ") FROM pg_catalog.pg_class c"
        + " WHERE c.relkind IN ('r', 'p') AND c.oid >= 16384";

    private final Connection source;
    private final Memory memory;

    CatalogKeys(Connection source, Memory memory) {
      this.source = source;
      this.memory = memory;
    }

    void loadAll() {
      try (Statement s = source.createStatement(); ResultSet rs = s.executeQuery(ALL_TABLES)) {
        while (rs.next()) {
          memory.put((int) rs.getLong(1), names(rs.getArray(2)));
        }
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read primary keys from the source catalog: " + e.getMessage(), e);
      }
    }

    @Override
    public void declare(KeyDeclaration declaration) {
      memory.declare(declaration);
    }

    @Override
    public List<String> columns(PgOutputMessage.Relation relation) {
      List<String> known = declaredFor(relation);
      if (known == null) {
        Optional<List<String>> now = inCatalog(relation);
        now.ifPresent(keys -> memory.put(relation.oid(), keys));
        known = now.orElseGet(() -> memory.get(relation.oid()));
      }
      if (known != null && !known.isEmpty()) {
        return known;
      }
      if (!relation.fullIdentity()) {
        return flagged(relation);
      }
      if (known != null) {
        return List.of();
      }
      boolean hasId = relation.columns().stream().anyMatch(c -> c.name().equals("id"));
      LOG.warn("the primary key of {}.{} is unknown (the table was dropped before the worker read its changes);"
          + " {}", relation.namespace(), relation.name(), hasId ? "keyed by its id column" : "recorded without key");
      return hasId ? List.of("id") : List.of();
    }

    /** The key the stream declared, unless the relation no longer has one of its columns (then null). */
    private List<String> declaredFor(PgOutputMessage.Relation relation) {
      List<String> declared = memory.declared(relation.oid());
      if (declared == null) {
        return null;
      }
      for (String column : declared) {
        if (relation.columns().stream().noneMatch(c -> c.name().equals(column))) {
          return null;
        }
      }
      return declared;
    }

    /** The table's primary key columns (empty: none); empty Optional when the table is gone. */
    private Optional<List<String>> inCatalog(PgOutputMessage.Relation relation) {
      try (PreparedStatement ps = source.prepareStatement(ONE_TABLE)) {
        ps.setLong(1, Integer.toUnsignedLong(relation.oid()));
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(names(rs.getArray(1))) : Optional.empty();
        }
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the primary key of " + relation.namespace() + "."
            + relation.name() + " from the source catalog: " + e.getMessage(), e);
      }
    }

    private static List<String> names(Array array) throws SQLException {
      if (array == null) {
        return List.of();
      }
      return List.of((String[]) array.getArray());
    }
  }
}
