package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.GeneratedColumns;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.TrackingSql;

/**
 * The event trigger function that keeps tracking right while the application changes its schema. It
 * runs inside the user's DDL statement, so it is built to be harmless there:
 * <ul>
 *   <li>it looks only at relations the statement created or altered ({@code pg_event_trigger_ddl_commands()})
 *       and at relations this transaction already holds an ACCESS EXCLUSIVE lock on (a partition just
 *       attached or detached); it never scans or locks other tables;</li>
 *   <li>it runs with {@code lock_timeout} of {@value SetupPlan#EVENT_TRIGGER_LOCK_TIMEOUT}, so it never waits;</li>
 *   <li>every action sits in its own exception block, and the whole body in one more: any error becomes a
 *       {@code WARNING pgtrail: ...} with a fix, never the user's error;</li>
 *   <li>it changes identity only from DEFAULT to FULL, only on tables the statement created and partitions
 *       it attached; USING INDEX, NOTHING and FULL stay as the user chose;</li>
 *   <li>it is SECURITY DEFINER with a pinned {@code search_path}, so a role that may only create tables still
 *       gets its tables tracked, and nothing in the user's schemas can stand in for a catalog object;</li>
 *   <li>an in-scope table it could not publish (a lock busy, no usable replica identity, any error) leaves a
 *       {@link GapMessage} in the statement's own transaction, which the worker writes into the trail as a gap
 *       record; the message is guarded like every other action;</li>
 *   <li>every published table the statement created or altered leaves a {@link KeysMessage} (its primary key
 *       from then on) in the same transaction, so the worker keys its changes right even after the table is
 *       dropped or altered again; guarded the same way.</li>
 * </ul>
 */
final class EventTriggerSql {
  static final String TAGS = "''CREATE TABLE'', ''CREATE TABLE AS'', ''SELECT INTO'', ''ALTER TABLE''";
  private static final String SEARCH_PATH = "pg_catalog, pg_temp";

  private EventTriggerSql() {}

  /** The SET clauses of CREATE FUNCTION, as they appear inside a format() string literal. */
  static String setClauses() {
    return " SET search_path = " + SEARCH_PATH + " SET lock_timeout = ''" + SetupPlan.EVENT_TRIGGER_LOCK_TIMEOUT + "''";
  }

  /** pg_proc.proconfig as those SET clauses leave it. */
  static String configArray() {
    return "ARRAY['search_path=" + SEARCH_PATH + "', 'lock_timeout=" + SetupPlan.EVENT_TRIGGER_LOCK_TIMEOUT + "']";
  }

  static String body(SetupRequest r) {
    String pub = Identifiers.literal(r.publication());
    boolean trackNew = r.trackNewTables() && r.scope().coversNewTables();
    StringBuilder b = new StringBuilder();
    b.append("DECLARE\n  cand record;\n  rel record;\n  root record;\n  stmt text;\n  is_member boolean;\n")
        .append("  can_publish boolean;\n  added boolean;\n  gap_schema text;\n  gap_table text;\n  gap_detail text;\nBEGIN\n")
        .append("  -- the DDL below fires this trigger again: one level is enough\n")
        .append("  IF current_setting('pgtrail.tracking_ddl', true) = 'on' THEN\n    RETURN;\n  END IF;\n")
        .append("  PERFORM set_config('pgtrail.tracking_ddl', 'on', true);\n")
        .append("  FOR cand IN\n")
        .append("    WITH cmd AS (\n")
        .append("      SELECT objid AS relid, command_tag IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO') AS created\n")
        .append("      FROM pg_event_trigger_ddl_commands() WHERE classid = 'pg_class'::regclass AND object_type = 'table'\n")
        .append("    ), held AS (\n")
        .append("      SELECT l.relation AS relid FROM pg_locks l\n")
        .append("      WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock'")
        .append(" AND l.granted\n")
        .append("        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())\n")
        .append("    )\n")
        .append("    SELECT relid, bool_or(created) AS created FROM (\n")
        .append("      SELECT relid, created FROM cmd\n")
        .append("      UNION ALL\n")
        .append("      SELECT pt.relid, true FROM cmd JOIN pg_class pc ON pc.oid = cmd.relid AND pc.relkind = 'p'\n")
        .append("        CROSS JOIN LATERAL pg_partition_tree(cmd.relid) pt JOIN held ON held.relid = pt.relid\n")
        .append("        WHERE pt.relid <> cmd.relid\n")
        .append("      UNION ALL\n")
        .append("      SELECT relid, false FROM held\n")
        .append("    ) touched GROUP BY relid ORDER BY bool_or(created) DESC, relid -- identities first, then membership\n")
        .append("  LOOP\n")
        .append("    -- set once this table should be in the publication and may not be: a gap if the block fails\n")
        .append("    gap_schema := NULL;\n    gap_table := NULL;\n    gap_detail := NULL;\n")
        .append("    BEGIN\n")
        .append("      SELECT c.oid, n.nspname, c.relname, c.relkind, c.relreplident, c.relpersistence, c.relispartition\n")
        .append("        INTO rel FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = cand.relid;\n")
        .append("      CONTINUE WHEN NOT FOUND OR rel.relkind NOT IN ('r', 'p') OR rel.relpersistence <> 'p';\n")
        .append("      SELECT c.oid, n.nspname, c.relname, ").append(TrackingSql.inScope(r.scope(), "c", "n"))
        .append(" AS in_scope\n")
        .append("        INTO root FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n")
        .append("        WHERE c.oid = COALESCE(pg_partition_root(rel.oid), rel.oid);\n")
        .append("      IF rel.relispartition AND ").append(TrackingSql.member(r.publication(), "rel.oid")).append(" THEN\n")
        .append("        -- a tracked table just attached as a partition: its changes now go under its root's name\n")
        .append("        EXECUTE format('ALTER PUBLICATION %I DROP TABLE %I.%I', ").append(pub)
        .append(", rel.nspname, rel.relname);\n")
        .append("      END IF;\n")
        .append("      is_member := ").append(TrackingSql.member(r.publication(), "root.oid")).append(";\n")
        .append("      CONTINUE WHEN NOT root.in_scope AND NOT is_member;\n")
        .append("      IF cand.created AND root.in_scope AND rel.relreplident = 'd' AND ")
        .append(GeneratedColumns.withoutVirtualColumns("rel")).append(" THEN\n")
        .append("        BEGIN\n")
        .append("          EXECUTE format('ALTER TABLE %I.%I REPLICA IDENTITY FULL', rel.nspname, rel.relname);\n")
        .append("        EXCEPTION WHEN OTHERS THEN\n")
        .append("          RAISE WARNING 'pgtrail: cannot set REPLICA IDENTITY FULL on %.%: %', quote_ident(rel.nspname),")
        .append(" quote_ident(rel.relname), SQLERRM\n")
        .append("            USING HINT = 'Your statement succeeded. Set the identity as the table''s owner (ALTER TABLE ...")
        .append(" REPLICA IDENTITY FULL) so its changes are recorded completely.';\n")
        .append("        END;\n")
        .append("      END IF;\n")
        .append("      SELECT ").append(TrackingSql.publishable("c")).append(" INTO can_publish FROM pg_class c")
        .append(" WHERE c.oid = root.oid;\n")
        .append("      added := false;\n")
        .append("      IF is_member AND NOT (root.in_scope AND can_publish) THEN\n")
        .append("        EXECUTE format('ALTER PUBLICATION %I DROP TABLE %I.%I', ").append(pub)
        .append(", root.nspname, root.relname);\n")
        .append("        IF root.in_scope THEN\n")
        .append("          RAISE WARNING 'pgtrail: stopped tracking %.%: it or one of its partitions has no usable replica")
        .append(" identity, and publishing it would make its UPDATE and DELETE fail', quote_ident(root.nspname),")
        .append(" quote_ident(root.relname)\n")
        .append("            USING HINT = 'Give it a primary key or REPLICA IDENTITY FULL; the next setup run tracks it again.';\n")
        .append(gapTarget("no usable replica identity: taken out of the publication"))
        .append("        END IF;\n");
    if (trackNew) {
      b.append("      ELSIF NOT is_member AND root.in_scope AND can_publish THEN\n")
          .append("        gap_schema := root.nspname;\n        gap_table := root.relname;\n")
          .append("        EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I.%I', ").append(pub)
          .append(", root.nspname, root.relname);\n")
          .append("        added := true;\n")
          .append("      ELSIF NOT is_member AND root.in_scope AND cand.created THEN\n")
          .append("        RAISE WARNING 'pgtrail: %.% is not tracked: it has no usable replica identity, and publishing it")
          .append(" would make its UPDATE and DELETE fail', quote_ident(root.nspname), quote_ident(root.relname)\n")
          .append("          USING HINT = 'Give it a primary key or REPLICA IDENTITY FULL; the next setup run tracks it.';\n")
          .append(gapTarget("no usable replica identity: not published"));
    }
    b.append("      END IF;\n");
    b.append("      IF gap_detail IS NOT NULL THEN\n").append(emitGap(r, "gap_schema", "gap_table", "gap_detail", "        "))
        .append("      END IF;\n");
    b.append("      IF added OR is_member AND root.in_scope AND can_publish THEN\n").append(emitKeys("        "))
        .append("      END IF;\n");
    if (r.contextTriggers()) {
      b.append("      IF (added OR cand.created AND is_member) AND root.oid = rel.oid")
          .append(" AND NOT EXISTS (").append(SetupPlan.hasContextTrigger("root.oid")).append(")")
          .append(" AND ").append(TrackingSql.contextFunctionSchema()).append(" IS NOT NULL THEN\n")
          .append("        BEGIN\n")
          .append(SetupPlan.createContextTriggerPlpgsql("root.nspname", "root.relname", r.publication(), "          "))
          .append("        EXCEPTION WHEN OTHERS THEN\n")
          .append("          RAISE WARNING 'pgtrail: no context trigger on %.%: %', quote_ident(root.nspname),")
          .append(" quote_ident(root.relname), SQLERRM;\n")
          .append("        END;\n")
          .append("      END IF;\n");
    }
    b.append("    EXCEPTION WHEN OTHERS THEN\n")
        .append("      RAISE WARNING 'pgtrail: tracking of relation % not updated: % (SQLSTATE %)', cand.relid, SQLERRM,")
        .append(" SQLSTATE\n")
        .append("        USING HINT = 'Your statement succeeded. Run pgtrail setup again (the operator does at its next")
        .append(" reconcile) to bring tracking up to date.';\n")
        .append("      IF gap_table IS NOT NULL THEN\n")
        .append(emitGap(r, "gap_schema", "gap_table", "SQLERRM || ' (SQLSTATE ' || SQLSTATE || ')'", "        "))
        .append("      END IF;\n")
        .append("    END;\n")
        .append("  END LOOP;\n")
        .append("  PERFORM set_config('pgtrail.tracking_ddl', '', true);\n")
        .append("EXCEPTION WHEN OTHERS THEN\n")
        .append("  PERFORM set_config('pgtrail.tracking_ddl', '', true);\n")
        .append("  RAISE WARNING 'pgtrail: tracking not updated: % (SQLSTATE %)', SQLERRM, SQLSTATE\n")
        .append("    USING HINT = 'Your statement succeeded. Run pgtrail setup again to bring tracking up to date.';\n")
        .append("  -- which tables the statement touched is unknown here: a gap record without a table name\n")
        .append(emitGap(r, "NULL", "NULL", "'tracking not updated: ' || SQLERRM || ' (SQLSTATE ' || SQLSTATE || ')'", "  "))
        .append("END\n");
    return b.toString();
  }

  /**
   * A transactional {@link KeysMessage}: the published root's primary key as this statement leaves it, read
   * from pg_index (one index scan), so the worker keys the changes that follow with it. Its own exception
   * block keeps it from ever failing the statement.
   */
  private static String emitKeys(String indent) {
    return indent + "BEGIN\n"
        + indent + "  PERFORM pg_logical_emit_message(true, " + Identifiers.literal(GapMessage.PREFIX)
        + ", json_build_object(" + Identifiers.literal(KeysMessage.KEYS) + ", json_build_object('relation', root.oid,"
        + " 'schema', root.nspname, 'table', root.relname, 'columns', COALESCE(("
        + TrackingSql.primaryKeyColumns("root.oid") + "), '{}')))::text);\n"
        + indent + "EXCEPTION WHEN OTHERS THEN\n"
        + indent + "  RAISE WARNING 'pgtrail: the primary key of %.% not sent to the worker: %', quote_ident(root.nspname),"
        + " quote_ident(root.relname), SQLERRM;\n"
        + indent + "END;\n";
  }

  private static String gapTarget(String detail) {
    return "        gap_schema := root.nspname;\n        gap_table := root.relname;\n        gap_detail := "
        + Identifiers.literal(detail) + ";\n";
  }

  /**
   * A transactional {@link GapMessage}: it commits or rolls back with the user's statement and reaches the
   * worker in commit order. Its own exception block keeps it from ever failing the statement.
   */
  private static String emitGap(SetupRequest r, String schema, String table, String detail, String indent) {
    return indent + "BEGIN\n"
        + indent + "  PERFORM pg_logical_emit_message(true, " + Identifiers.literal(GapMessage.PREFIX)
        + ", json_build_object('gap', " + Identifiers.literal(GapMessage.TABLE_NOT_PUBLISHED) + ", 'publication', "
        + Identifiers.literal(r.publication()) + ", 'schema', " + schema + ", 'table', " + table + ", 'detail', "
        + detail + ")::text);\n"
        + indent + "EXCEPTION WHEN OTHERS THEN\n"
        + indent + "  RAISE WARNING 'pgtrail: no gap record for an untracked table: %', SQLERRM;\n"
        + indent + "END;\n";
  }
}
