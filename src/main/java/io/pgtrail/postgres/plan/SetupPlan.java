package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Catalog;
import io.pgtrail.postgres.catalog.GeneratedColumns;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.TrackingSql;
import io.pgtrail.postgres.slots.FailoverSlots;
import io.pgtrail.postgres.slots.ReplicationSlots;
import java.util.ArrayList;
import java.util.List;

/**
 * The one plan for setup and teardown: an ordered list of guarded SQL statements (mostly DO blocks that
 * check the catalog before they act). {@link SetupExecutor} and {@link TeardownExecutor} run exactly
 * these statements; {@link SetupScripts} prints exactly these statements. Each action announces itself
 * with a {@code NOTICE pgtrail: did: ...} (what changed) or {@code NOTICE pgtrail: kept: ...} (what was
 * left and why); every problem that must not stop the rest becomes a {@code WARNING pgtrail: ...}.
 */
public final class SetupPlan {
  /** The oldest PostgreSQL major pgtrail sets up (pgoutput protocol 2, logical messages). */
  public static final int MIN_SERVER_MAJOR = 14;
  /** Prefix of the NOTICE that reports one executed change. */
  public static final String DID = "pgtrail: did: ";
  /** The detail of the gap record for a table setup published that the event trigger never saw. */
  public static final String PUBLISHED_LATE = "published late by setup: the event trigger did not publish it when it"
      + " was created (it did not fire: session_replication_role = replica or the trigger disabled; or it could not:"
      + " an earlier TableNotPublished record says why); its changes before this are not in the trail";
  /** Prefix of the NOTICE that reports something teardown left in place, with the reason. */
  public static final String KEPT = "pgtrail: kept: ";
  /** Lock wait a setup statement accepts before it skips a busy table (the next run picks it up). */
  static final String SETUP_LOCK_TIMEOUT = "1s";
  /** Lock wait the event trigger accepts: it never makes a user's statement wait noticeably. */
  static final String EVENT_TRIGGER_LOCK_TIMEOUT = "50ms";

  private static final String DO = "$do$";

  /** One statement of the plan; {@code afterCommit} steps run after the transaction of the others. */
  public record Step(String title, String sql, boolean afterCommit) {}

  private SetupPlan() {}

  // ---- setup -----------------------------------------------------------------------------------

  public static List<Step> setup(SetupRequest r, String roleName) {
    List<Step> steps = new ArrayList<>();
    steps.add(new Step("Refuse a publication or slot that is not this source's", refuseConflicts(r), false));
    if (roleName != null && r.provider().canCreateReplicationRole()) {
      steps.add(new Step("Least-privilege replication role", role(r, roleName), false));
    }
    steps.add(new Step("Publication " + Identifiers.quote(r.publication())
        + " (a table list, publish_via_partition_root), marked as pgtrail's", publication(r), false));
    steps.add(new Step("PostgreSQL 18: FULL that pgtrail set goes back to DEFAULT on tables with virtual generated"
        + " columns and a primary key", keepFullOffVirtualColumnsStep(r.publication()), false));
    if (r.trackNewTables() && r.scope().coversNewTables()) {
      steps.add(new Step("Gap messages for tables the event trigger did not publish when they were created",
          publishedLate(r), false));
    }
    steps.add(new Step("REPLICA IDENTITY FULL on tracked tables and their partitions where it is DEFAULT"
        + " (recorded in the marker; USING INDEX and NOTHING stay as chosen)", replicaIdentity(r), false));
    steps.add(new Step("Publication members: tracked tables whose writes publishing cannot break",
        membership(r), false));
    if (r.contextTriggers()) {
      steps.add(new Step("Context function (Bemi's protocol), unless one exists already; pgtrail's runs as its owner",
          contextFunction(r), false));
      steps.add(new Step("Context triggers on tracked tables", contextTriggers(r), false));
    }
    steps.add(new Step("Event trigger: partitions get REPLICA IDENTITY FULL"
        + (r.trackNewTables() && r.scope().coversNewTables() ? "; new tables are tracked" : "")
        + "; every action guarded, never waits, never fails the user's statement", eventTrigger(r), false));
    steps.add(new Step("Logical replication slot (pgoutput), created after the publication", slot(r), true));
    return steps;
  }

  static String readMarker(String publication) {
    return readMarker(publication, "  ");
  }

  /** Reads the publication's comment into {@code marker} (NULL when it is not JSON). */
  static String readMarker(String publication, String indent) {
    return indent + "BEGIN\n"
        + indent + "  SELECT pg_catalog.obj_description(oid, 'pg_publication')::jsonb INTO marker"
        + " FROM pg_catalog.pg_publication WHERE pubname = " + Identifiers.literal(publication) + ";\n"
        + indent + "EXCEPTION WHEN invalid_text_representation THEN\n" + indent + "  marker := NULL;\n"
        + indent + "END;\n";
  }

  private static String writeMarker(String publication) {
    return "EXECUTE format('COMMENT ON PUBLICATION %I IS %L', " + Identifiers.literal(publication)
        + ", marker::text);\n";
  }

  private static String refuseConflicts(SetupRequest r) {
    String pub = Identifiers.quote(r.publication());
    String slot = Identifiers.literal(r.slot());
    return "DO " + DO + "\nDECLARE\n  marker jsonb;\n  present boolean;\nBEGIN\n"
        + "  present := EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = "
        + Identifiers.literal(r.publication()) + ");\n"
        + readMarker(r.publication())
        + "  IF present AND (marker IS NULL OR marker ->> 'managedBy' IS DISTINCT FROM 'pgtrail') THEN\n"
        + "    RAISE EXCEPTION USING HINT = 'Conflict', MESSAGE = " + Identifiers.literal("publication " + pub
            + " exists and was not created by pgtrail: choose another publication name, or drop it if nothing uses it")
        + ";\n  END IF;\n"
        + "  IF present AND marker ->> 'owner' IS DISTINCT FROM " + Identifiers.literal(r.ownerId()) + " THEN\n"
        + "    RAISE EXCEPTION USING HINT = 'Conflict', MESSAGE = " + Identifiers.literal("publication " + pub
            + " is managed by another pgtrail source: choose another publication name, or drop it if nothing uses it")
        + ";\n  END IF;\n"
        + "  IF EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = " + slot + ")\n"
        + "      AND NOT (present AND marker ->> 'slot' = " + slot + " OR NOT present AND " + r.adoptExistingSlot()
        + ") THEN\n"
        + "    RAISE EXCEPTION USING HINT = 'Conflict', MESSAGE = " + Identifiers.literal("replication slot "
            + Identifiers.quote(r.slot()) + " exists and was not created for this source: choose another slot name,"
            + " or drop it if nothing uses it")
        + ";\n  END IF;\nEND\n" + DO;
  }

  private static String role(SetupRequest r, String role) {
    StringBuilder b = new StringBuilder("DO " + DO + "\nBEGIN\n");
    b.append("  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ").append(Identifiers.literal(role))
        .append(") THEN\n");
    List<String> create = new ArrayList<>();
    create.add(SetupSql.createReplicationRole(role, r.provider()));
    create.addAll(SetupSql.grantReplication(role, r.provider()));
    for (String s : create) {
      b.append("    ").append(s).append(";\n");
    }
    b.append("    RAISE NOTICE '%', ").append(Identifiers.literal(DID + "CREATE ROLE " + Identifiers.quote(role)))
        .append(";\n  END IF;\n");
    for (String schema : r.scope().effectiveSchemas()) {
      b.append("  IF EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = ").append(Identifiers.literal(schema))
          .append(") AND NOT (pg_catalog.has_schema_privilege(").append(Identifiers.literal(role)).append(", ")
          .append(Identifiers.literal(schema)).append(", 'USAGE') AND EXISTS (SELECT 1 FROM pg_catalog.pg_default_acl d,")
          .append(" pg_catalog.aclexplode(d.defaclacl) a JOIN pg_catalog.pg_roles g ON g.oid = a.grantee")
          .append(" WHERE d.defaclnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = ")
          .append(Identifiers.literal(schema)).append(") AND d.defaclrole = (SELECT oid FROM pg_catalog.pg_roles")
          .append(" WHERE rolname = current_user) AND d.defaclobjtype = 'r' AND g.rolname = ")
          .append(Identifiers.literal(role)).append(" AND a.privilege_type = 'SELECT')) THEN\n");
      for (String grant : SetupSql.grantSchemaRead(role, schema)) {
        b.append("    ").append(grant).append(";\n");
      }
      b.append("    RAISE NOTICE '%', ").append(Identifiers.literal(DID + "GRANT SELECT ON ALL TABLES IN SCHEMA "
          + Identifiers.quote(schema) + " TO " + Identifiers.quote(role))).append(";\n  END IF;\n");
    }
    for (QualifiedName t : r.scope().tables()) {
      b.append("  IF pg_catalog.to_regclass(").append(Identifiers.literal(t.quoted()))
          .append(") IS NOT NULL AND NOT (pg_catalog.has_schema_privilege(").append(Identifiers.literal(role))
          .append(", ").append(Identifiers.literal(t.schema())).append(", 'USAGE') AND pg_catalog.has_table_privilege(")
          .append(Identifiers.literal(role)).append(", ").append(Identifiers.literal(t.quoted()))
          .append(", 'SELECT')) THEN\n");
      for (String grant : SetupSql.grantTableRead(role, t)) {
        b.append("    ").append(grant).append(";\n");
      }
      b.append("    RAISE NOTICE '%', ").append(Identifiers.literal(DID + "GRANT SELECT ON TABLE " + t.quoted() + " TO "
          + Identifiers.quote(role))).append(";\n  END IF;\n");
    }
    return b.append("END\n").append(DO).toString();
  }

  private static String publication(SetupRequest r) {
    String pub = Identifiers.literal(r.publication());
    OwnerMarker marker = new OwnerMarker(r.ownerId(), r.slot(), List.of(), List.of(), null);
    return "DO " + DO + "\nDECLARE\n  stmt text;\n  gencols text;\nBEGIN\n"
        + "  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = " + pub + ") THEN\n"
        + "    stmt := format('CREATE PUBLICATION %I WITH (publish_via_partition_root = true)', " + pub + ");\n"
        + "    EXECUTE stmt;\n"
        + "    EXECUTE format('COMMENT ON PUBLICATION %I IS %L', " + pub + ", " + Identifiers.literal(marker.toComment())
        + ");\n"
        + "    RAISE NOTICE '" + DID + "%', stmt;\n"
        + "  ELSIF NOT (SELECT pubviaroot FROM pg_catalog.pg_publication WHERE pubname = " + pub + ") THEN\n"
        + "    stmt := format('ALTER PUBLICATION %I SET (publish_via_partition_root = true)', " + pub + ");\n"
        + "    EXECUTE stmt;\n"
        + "    RAISE NOTICE '" + DID + "%', stmt;\n"
        + "  END IF;\n"
        + publishGeneratedColumns(pub)
        + "END\n" + DO;
  }

  /** PostgreSQL 18 sends stored generated columns when asked (docs/values.md); older servers never do. */
  private static String publishGeneratedColumns(String pubLiteral) {
    return "  IF pg_catalog.current_setting('server_version_num')::int >= 180000 THEN\n"
        + "    EXECUTE 'SELECT pubgencols::text FROM pg_catalog.pg_publication WHERE pubname = $1' INTO gencols"
        + " USING " + pubLiteral + ";\n"
        + "    IF gencols IS DISTINCT FROM 's' THEN\n"
        + "      stmt := format('ALTER PUBLICATION %I SET (publish_generated_columns = stored)', " + pubLiteral + ");\n"
        + "      EXECUTE stmt;\n"
        + "      RAISE NOTICE '" + DID + "%', stmt;\n"
        + "    END IF;\n"
        + "  END IF;\n";
  }

  private static String replicaIdentity(SetupRequest r) {
    String pub = r.publication();
    return "DO " + DO + "\nDECLARE\n  t record;\n  stmt text;\n  changed jsonb := '[]';\n  marker jsonb;\nBEGIN\n"
        + "  PERFORM pg_catalog.set_config('lock_timeout', '" + SETUP_LOCK_TIMEOUT + "', true);\n"
        + "  FOR t IN SELECT DISTINCT pn.nspname, pc.relname FROM pg_catalog.pg_class c\n"
        + "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "      CROSS JOIN LATERAL (SELECT c.oid AS relid UNION SELECT pt.relid FROM pg_catalog.pg_partition_tree(c.oid) pt)"
        + " tree\n"
        + "      JOIN pg_catalog.pg_class pc ON pc.oid = tree.relid JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace\n"
        + "    WHERE " + TrackingSql.inScope(r.scope(), "c", "n") + "\n"
        + "      AND pc.relreplident = 'd' AND pc.relkind IN ('r', 'p')\n"
        + "      AND " + GeneratedColumns.withoutVirtualColumns("pc") + "\n"
        + "    ORDER BY 1, 2\n"
        + "  LOOP\n"
        + "    BEGIN\n"
        + "      stmt := format('ALTER TABLE %I.%I REPLICA IDENTITY FULL', t.nspname, t.relname);\n"
        + "      EXECUTE stmt;\n"
        + "      changed := changed || jsonb_build_array(jsonb_build_array(t.nspname, t.relname));\n"
        + "      RAISE NOTICE '" + DID + "%', stmt;\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: cannot set REPLICA IDENTITY FULL on %.%: %', quote_ident(t.nspname),"
        + " quote_ident(t.relname), SQLERRM\n"
        + "        USING HINT = 'Run setup as the table''s owner (or a superuser), or set the identity yourself;"
        + " a table whose writes publishing would break is left out of tracking.';\n"
        + "    END;\n"
        + "  END LOOP;\n"
        + "  IF changed <> '[]' THEN\n"
        + readMarker(pub, "    ")
        + "    IF marker ->> 'managedBy' = 'pgtrail' THEN\n"
        + "      marker := jsonb_set(marker, '{replicaIdentityFull}', COALESCE(marker -> 'replicaIdentityFull', '[]')"
        + " || changed);\n"
        + "      " + writeMarker(pub)
        + "    END IF;\n"
        + "  END IF;\nEND\n" + DO;
  }

  private static String membership(SetupRequest r) {
    String pub = Identifiers.literal(r.publication());
    String scope = TrackingSql.inScope(r.scope(), "c", "n");
    return "DO " + DO + "\nDECLARE\n  t record;\n  stmt text;\n  note text;\nBEGIN\n"
        + "  PERFORM pg_catalog.set_config('lock_timeout', '" + SETUP_LOCK_TIMEOUT + "', true);\n"
        + "  -- FOR ALL TABLES cannot become a table list: re-create it in this same transaction (no gap)\n"
        + "  IF (SELECT puballtables FROM pg_catalog.pg_publication WHERE pubname = " + pub + ") THEN\n"
        + "    note := pg_catalog.obj_description((SELECT oid FROM pg_catalog.pg_publication WHERE pubname = " + pub
        + "), 'pg_publication');\n"
        + "    EXECUTE format('DROP PUBLICATION %I', " + pub + ");\n"
        + "    EXECUTE format('CREATE PUBLICATION %I WITH (publish_via_partition_root = true)', " + pub + ");\n"
        + "    EXECUTE format('COMMENT ON PUBLICATION %I IS %L', " + pub + ", note);\n"
        + "    RAISE NOTICE '" + DID + "%', format('DROP PUBLICATION %I; CREATE PUBLICATION %I', " + pub + ", " + pub
        + ");\n"
        + "  END IF;\n"
        + "  IF current_setting('server_version_num')::int >= 150000 THEN\n"
        + "    FOR t IN EXECUTE 'SELECT n.nspname FROM pg_catalog.pg_publication_namespace pn"
        + " JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid JOIN pg_catalog.pg_publication p ON p.oid = pn.pnpubid"
        + " WHERE p.pubname = $1' USING " + pub + " LOOP\n"
        + "      stmt := format('ALTER PUBLICATION %I DROP TABLES IN SCHEMA %I', " + pub + ", t.nspname);\n"
        + "      EXECUTE stmt;\n"
        + "      RAISE NOTICE '" + DID + "%', stmt;\n"
        + "    END LOOP;\n"
        + "  END IF;\n"
        + "  FOR t IN SELECT n.nspname, c.relname, " + TrackingSql.publishable("c") + " AS ok,\n"
        + "        " + TrackingSql.member(r.publication(), "c.oid") + " AS member, true AS wanted\n"
        + "      FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "      WHERE " + scope + "\n"
        + "      AND NOT (" + TrackingSql.publishable("c") + " AND " + TrackingSql.member(r.publication(), "c.oid") + ")\n"
        + "    UNION ALL\n"
        + "    SELECT n.nspname, c.relname, false, true, false FROM pg_catalog.pg_publication_rel pr\n"
        + "      JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid\n"
        + "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "      WHERE p.pubname = " + pub + " AND NOT (" + scope + ")\n"
        + "    ORDER BY 1, 2\n"
        + "  LOOP\n"
        + "    BEGIN\n"
        + "      IF t.member THEN\n"
        + "        stmt := format('ALTER PUBLICATION %I DROP TABLE %I.%I', " + pub + ", t.nspname, t.relname);\n"
        + "      ELSIF t.ok THEN\n"
        + "        stmt := format('ALTER PUBLICATION %I ADD TABLE %I.%I', " + pub + ", t.nspname, t.relname);\n"
        + "      ELSE\n"
        + "        stmt := NULL;\n"
        + "      END IF;\n"
        + "      IF stmt IS NOT NULL THEN\n"
        + "        EXECUTE stmt;\n"
        + "        RAISE NOTICE '" + DID + "%', stmt;\n"
        + "      END IF;\n"
        + "      IF t.wanted AND NOT t.ok THEN\n"
        + "        RAISE WARNING 'pgtrail: %.% is left out of tracking: %', quote_ident(t.nspname), quote_ident(t.relname),"
        + " 'it or one of its partitions has no usable replica identity (NOTHING, USING a dropped index, or DEFAULT"
        + " without primary key and not ours to change), so publishing it would make its UPDATE and DELETE fail'\n"
        + "          USING HINT = 'Give it a primary key or run ALTER TABLE ... REPLICA IDENTITY FULL as its owner;"
        + " the next setup run tracks it.';\n"
        + "      END IF;\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: %.% is left out of tracking: %', quote_ident(t.nspname), quote_ident(t.relname),"
        + " SQLERRM\n"
        + "        USING HINT = 'Run setup as the table''s owner (or a superuser); the next setup run tracks it.';\n"
        + "    END;\n"
        + "  END LOOP;\nEND\n" + DO;
  }

  /**
   * Tables of the scope outside the publication while the event trigger already served this very scope (its
   * function unchanged): the trigger did not publish them when they were created (it did not fire, under
   * {@code session_replication_role = replica} or disabled; or it could not). Their changes until now are not
   * in the trail. In the transaction that publishes them (the next steps, or the event trigger as their
   * replica identity changes) a {@link GapMessage} each, which the worker writes as a gap record.
   */
  private static String publishedLate(SetupRequest r) {
    String scope = TrackingSql.inScope(r.scope(), "c", "n");
    return "DO " + DO + "\nDECLARE\n  t record;\nBEGIN\n"
        + "  IF NOT " + eventTriggerServesThisScope(r) + " THEN\n    RETURN;\n  END IF;\n"
        + "  FOR t IN SELECT n.nspname, c.relname FROM pg_catalog.pg_class c\n"
        + "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "      WHERE " + scope + " AND NOT " + TrackingSql.willBeLeftOut("c") + "\n"
        + "      AND NOT " + TrackingSql.member(r.publication(), "c.oid") + "\n"
        + "    ORDER BY 1, 2\n"
        + "  LOOP\n"
        + emitPublishedLate(r)
        + "  END LOOP;\nEND\n" + DO;
  }

  /**
   * True when the event trigger exists (enabled or not) and its function is the one this request would
   * create: it has been adding this scope's new tables, so an in-scope table outside the publication escaped it.
   */
  private static String eventTriggerServesThisScope(SetupRequest r) {
    ManagedNames names = ManagedNames.forPublication(r.publication());
    return "EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger e JOIN pg_catalog.pg_proc p ON p.oid = e.evtfoid"
        + " WHERE e.evtname = " + Identifiers.literal(names.eventTrigger()) + " AND p.proname = "
        + Identifiers.literal(names.function()) + " AND p.prosrc = " + Identifiers.literal(EventTriggerSql.body(r)) + ")";
  }

  /** The gap message for a table published late, in its own block: setup goes on if it cannot be written. */
  private static String emitPublishedLate(SetupRequest r) {
    return "    BEGIN\n"
        + "      PERFORM pg_catalog.pg_logical_emit_message(true, " + Identifiers.literal(GapMessage.PREFIX)
        + ", pg_catalog.json_build_object('gap', " + Identifiers.literal(GapMessage.TABLE_NOT_PUBLISHED)
        + ", 'publication', " + Identifiers.literal(r.publication()) + ", 'schema', t.nspname, 'table', t.relname,"
        + " 'detail', "
        + Identifiers.literal(PUBLISHED_LATE) + ")::text);\n"
        + "      RAISE NOTICE '" + DID + "%', format('gap message: %I.%I published late', t.nspname, t.relname);\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: no gap record for %.%, published late: %', quote_ident(t.nspname),"
        + " quote_ident(t.relname), SQLERRM;\n"
        + "    END;\n";
  }

  /**
   * Creates the context function when there is none. pgtrail's runs as its owner (SECURITY DEFINER), so a
   * commented write still succeeds where {@code EXECUTE} on {@code pg_logical_emit_message} was revoked from
   * PUBLIC; one created by an earlier version without it is altered. Bemi's own function is left as it is,
   * with a WARNING when that revocation would make its users' commented writes fail.
   */
  private static String contextFunction(SetupRequest r) {
    String function = Catalog.CONTEXT_FUNCTION + "()";
    return "DO " + DO + "\nDECLARE\n  s name := " + TrackingSql.contextFunctionSchema() + ";\n  f record;\nBEGIN\n"
        + "  IF s IS NULL THEN\n"
        + "    s := " + TrackingSql.routineSchema(r.scope()) + ";\n"
        + "    EXECUTE format(" + Identifiers.literal(SetupSql.createContextFunctionTemplate()) + ", s);\n"
        + "    EXECUTE format('COMMENT ON FUNCTION %I." + function + " IS %L', s, "
        + Identifiers.literal(TrackingSql.FUNCTION_MARKER) + ");\n"
        + "    RAISE NOTICE '" + DID + "CREATE FUNCTION %." + function + "', quote_ident(s);\n"
        + "    RETURN;\n"
        + "  END IF;\n"
        + "  SELECT p.prosecdef, pg_catalog.obj_description(p.oid, 'pg_proc') = "
        + Identifiers.literal(TrackingSql.FUNCTION_MARKER) + " AS ours INTO f\n"
        + "    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n"
        + "   WHERE n.nspname = s AND p.proname = '" + Catalog.CONTEXT_FUNCTION + "' AND p.pronargs = 0;\n"
        + "  IF f.ours AND NOT f.prosecdef THEN\n"
        + "    BEGIN\n"
        + "      EXECUTE format('ALTER FUNCTION %I." + function + " SECURITY DEFINER', s);\n"
        + "      RAISE NOTICE '" + DID + "ALTER FUNCTION %." + function + " SECURITY DEFINER', quote_ident(s);\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: cannot make %." + function + " SECURITY DEFINER: %', quote_ident(s), SQLERRM\n"
        + "        USING HINT = 'Run setup as the function''s owner; until then a commented write fails where"
        + " EXECUTE on pg_logical_emit_message is revoked from PUBLIC.';\n"
        + "    END;\n"
        + "  ELSIF NOT f.prosecdef AND NOT " + emitMessageIsPublic() + " THEN\n"
        + "    RAISE WARNING 'pgtrail: %." + function + " (not pgtrail''s) runs as the writing role, and EXECUTE on"
        + " pg_logical_emit_message is revoked from PUBLIC: a /*Bemi ... Bemi*/ write of a role without it fails',"
        + " quote_ident(s)\n"
        + "      USING HINT = 'Grant EXECUTE on pg_logical_emit_message (its text variant) to the application roles"
        + ", or ALTER FUNCTION ... SECURITY DEFINER as its owner.';\n"
        + "  END IF;\nEND\n" + DO;
  }

  /**
   * PUBLIC may execute {@code pg_logical_emit_message} with a text payload (the default ACL grants it; its
   * signature gained a {@code flush} argument in PostgreSQL 17).
   */
  private static String emitMessageIsPublic() {
    return "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc e WHERE e.proname = 'pg_logical_emit_message'"
        + " AND e.pronamespace = 'pg_catalog'::pg_catalog.regnamespace AND e.proargtypes[2] = 'text'::pg_catalog.regtype"
        + " AND e.proacl IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.aclexplode(e.proacl) a"
        + " WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))";
  }

  private static String contextTriggers(SetupRequest r) {
    String pub = Identifiers.literal(r.publication());
    return "DO " + DO + "\nDECLARE\n  t record;\n  stmt text;\n  fs name := " + TrackingSql.contextFunctionSchema()
        + ";\nBEGIN\n"
        + "  PERFORM pg_catalog.set_config('lock_timeout', '" + SETUP_LOCK_TIMEOUT + "', true);\n"
        + "  FOR t IN SELECT n.nspname, c.relname FROM pg_catalog.pg_publication_rel pr\n"
        + "      JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid\n"
        + "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "    WHERE p.pubname = " + pub + " AND NOT EXISTS (" + hasContextTrigger("c.oid") + ")\n"
        + "    ORDER BY 1, 2\n"
        + "  LOOP\n"
        + "    BEGIN\n"
        + createContextTriggerPlpgsql("t.nspname", "t.relname", r.publication(), "      ")
        + "      RAISE NOTICE '" + DID + "%', stmt;\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: no context trigger on %.%: %', quote_ident(t.nspname), quote_ident(t.relname),"
        + " SQLERRM USING HINT = 'Run setup as the table''s owner; its changes are recorded without context until then.';\n"
        + "    END;\n"
        + "  END LOOP;\nEND\n" + DO;
  }

  /** A non-internal row trigger on {@code relid} that calls a {@code _bemi_row_trigger_func}. */
  static String hasContextTrigger(String relid) {
    return "SELECT 1 FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_proc tp ON tp.oid = tg.tgfoid"
        + " WHERE tg.tgrelid = " + relid + " AND tp.proname = '" + Catalog.CONTEXT_FUNCTION + "'";
  }

  /** Sets {@code stmt} and creates Bemi's trigger (name, timing, events) calling the resolved function, marked as ours. */
  static String createContextTriggerPlpgsql(String schemaVar, String tableVar, String publication, String indent) {
    return indent + "stmt := format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW"
        + " EXECUTE FUNCTION %I." + Catalog.CONTEXT_FUNCTION + "()', '" + Catalog.CONTEXT_TRIGGER_PREFIX + "' || "
        + tableVar + ", " + schemaVar + ", " + tableVar + ", " + TrackingSql.contextFunctionSchema() + ");\n"
        + indent + "EXECUTE stmt;\n"
        + indent + "EXECUTE format('COMMENT ON TRIGGER %I ON %I.%I IS %L', '" + Catalog.CONTEXT_TRIGGER_PREFIX + "' || "
        + tableVar + ", " + schemaVar + ", " + tableVar + ", " + Identifiers.literal(TrackingSql.triggerMarker(publication))
        + ");\n";
  }

  private static String eventTrigger(SetupRequest r) {
    ManagedNames names = ManagedNames.forPublication(r.publication());
    String fn = Identifiers.literal(names.function());
    String body = EventTriggerSql.body(r);
    return "DO " + DO + "\nDECLARE\n  s name := " + TrackingSql.routineSchema(r.scope()) + ";\n  body text := "
        + Identifiers.literal(body) + ";\n  stmt text;\n  old record;\nBEGIN\n"
        + "  -- an earlier pgtrail version called a procedure from the event trigger\n"
        + "  FOR old IN SELECT n.nspname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n"
        + "      WHERE p.proname = " + Identifiers.literal(names.procedure()) + " LOOP\n"
        + "    stmt := format('DROP PROCEDURE IF EXISTS %I.%I()', old.nspname, " + Identifiers.literal(names.procedure())
        + ");\n    EXECUTE stmt;\n    RAISE NOTICE '" + DID + "%', stmt;\n  END LOOP;\n"
        + "  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n"
        + "      WHERE n.nspname = s AND p.proname = " + fn + " AND p.prosrc = body AND p.prosecdef"
        + " AND p.proconfig = " + EventTriggerSql.configArray() + ") THEN\n"
        + "    stmt := format('CREATE OR REPLACE FUNCTION %I.%I() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER"
        + EventTriggerSql.setClauses() + " AS %L', s, " + fn + ", body);\n"
        + "    EXECUTE stmt;\n"
        + "    EXECUTE format('REVOKE ALL ON FUNCTION %I.%I() FROM PUBLIC', s, " + fn + ");\n"
        + "    RAISE NOTICE '" + DID + "%', format('CREATE OR REPLACE FUNCTION %I.%I() (event trigger function)', s, "
        + fn + ");\n"
        + "  END IF;\n"
        + "  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = "
        + Identifiers.literal(names.eventTrigger()) + ") THEN\n"
        + "    BEGIN\n"
        + "      stmt := format('CREATE EVENT TRIGGER %I ON ddl_command_end WHEN TAG IN (" + EventTriggerSql.TAGS
        + ") EXECUTE FUNCTION %I.%I()', " + Identifiers.literal(names.eventTrigger()) + ", s, " + fn + ");\n"
        + "      EXECUTE stmt;\n"
        + "      RAISE NOTICE '" + DID + "%', stmt;\n"
        + "    EXCEPTION WHEN insufficient_privilege THEN\n"
        + "      RAISE WARNING 'pgtrail: cannot create the event trigger: %', SQLERRM\n"
        + "        USING HINT = 'Run setup as a superuser (rds_superuser, cloudsqlsuperuser). Without it, tables created"
        + " later are not tracked and partitions attached later need ALTER TABLE ... REPLICA IDENTITY FULL by hand.';\n"
        + "    END;\n"
        + "  END IF;\nEND\n" + DO;
  }

  private static String slot(SetupRequest r) {
    if (r.failoverSlot()) {
      return createSlotStep(r.slot());
    }
    return ReplicationSlots.createSlot(r.slot()).inline()
        + "\n  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = "
        + Identifiers.literal(r.slot()) + ")";
  }

  // ---- teardown --------------------------------------------------------------------------------

  public static List<Step> teardown(TeardownRequest r) {
    return List.of(new Step("Undo what the publication's marker proves is this source's, and keep what others rely on"
        + (r.dropPublicationAndSlot() ? "; drop the slot and the publication" : ""), teardownBlock(r), false));
  }

  private static String teardownBlock(TeardownRequest r) {
    ManagedNames names = ManagedNames.forPublication(r.publication());
    String pubName = r.publication();
    String pub = Identifiers.literal(pubName);
    String slot = Identifiers.literal(r.slot());
    String marked = Identifiers.literal(TrackingSql.triggerMarker(pubName));
    StringBuilder b = new StringBuilder("DO " + DO + "\nDECLARE\n  marker jsonb;\n  t record;\n  stmt text;\n"
        + "  bemi boolean;\nBEGIN\n");
    b.append(readMarker(pubName))
        .append("  IF marker IS NULL OR marker ->> 'managedBy' IS DISTINCT FROM 'pgtrail' THEN\n")
        .append("    RAISE NOTICE '").append(KEPT).append("%', ").append(Identifiers.literal("publication "
            + Identifiers.quote(pubName) + " carries no pgtrail marker for this source: nothing of it is provably ours,"
            + " left alone")).append(";\n    RETURN;\n  END IF;\n")
        .append("  IF marker ->> 'owner' IS DISTINCT FROM ").append(Identifiers.literal(r.ownerId() == null ? "" : r.ownerId()))
        .append(" THEN\n    RAISE NOTICE '").append(KEPT).append("%', ").append(Identifiers.literal("publication "
            + Identifiers.quote(pubName) + " belongs to another pgtrail source: left alone")).append(";\n    RETURN;\n  END IF;\n");
    if (r.dropPublicationAndSlot()) {
      b.append("  IF EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = ").append(slot)
          .append(" AND active) THEN\n    RAISE NOTICE '").append(KEPT).append("%', ").append(Identifiers.literal("slot "
              + Identifiers.quote(r.slot()) + " is still in use by a replication connection: nothing dropped yet;"
              + " stop the worker, then tear down again")).append(";\n    RETURN;\n  END IF;\n");
    }
    b.append("  IF EXISTS (SELECT 1 FROM pg_catalog.pg_event_trigger WHERE evtname = ")
        .append(Identifiers.literal(names.eventTrigger())).append(") THEN\n")
        .append("    stmt := format('DROP EVENT TRIGGER %I', ").append(Identifiers.literal(names.eventTrigger())).append(");\n")
        .append("    EXECUTE stmt;\n    RAISE NOTICE '").append(DID).append("%', stmt;\n  END IF;\n")
        .append("  FOR t IN SELECT n.nspname, p.proname, p.prokind FROM pg_catalog.pg_proc p")
        .append(" JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace\n")
        .append("      WHERE p.proname IN (").append(Identifiers.literal(names.function())).append(", ")
        .append(Identifiers.literal(names.procedure())).append(") ORDER BY 1, 2\n  LOOP\n")
        .append("    stmt := format(CASE t.prokind WHEN 'p' THEN 'DROP PROCEDURE %I.%I()' ELSE 'DROP FUNCTION %I.%I()' END,")
        .append(" t.nspname, t.proname);\n    EXECUTE stmt;\n    RAISE NOTICE '").append(DID).append("%', stmt;\n  END LOOP;\n")
        .append("  -- Bemi's own migration (its procedure re-creates context triggers) relies on the context triggers\n")
        .append("  bemi := EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = '_bemi_create_triggers');\n")
        .append("  FOR t IN SELECT tg.tgname, n.nspname, c.relname, c.oid FROM pg_catalog.pg_trigger tg\n")
        .append("      JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n")
        .append("      WHERE pg_catalog.obj_description(tg.oid, 'pg_trigger') = ").append(marked).append("\n")
        .append("        -- or left by a pgtrail publication that is gone (another source torn down first)\n")
        .append("        OR pg_catalog.obj_description(tg.oid, 'pg_trigger') LIKE '{\"managedBy\": \"pgtrail\", \"publication\": %'")
        .append(" AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication gone WHERE")
        .append(" pg_catalog.obj_description(tg.oid, 'pg_trigger') = '{\"managedBy\": \"pgtrail\", \"publication\": \"'")
        .append(" || gone.pubname || '\"}')\n")
        .append("      ORDER BY 2, 3\n  LOOP\n")
        .append("    IF bemi THEN\n      RAISE NOTICE '").append(KEPT)
        .append("context trigger % on %.%: Bemi''s migration (_bemi_create_triggers) is installed and relies on it',")
        .append(" quote_ident(t.tgname), quote_ident(t.nspname), quote_ident(t.relname);\n")
        .append("    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p")
        .append(" ON p.oid = pr.prpubid WHERE pr.prrelid = t.oid AND p.pubname <> ").append(pub)
        .append(" AND pg_catalog.obj_description(p.oid, 'pg_publication') ~ '\"managedBy\": ?\"pgtrail\"') THEN\n")
        .append("      RAISE NOTICE '").append(KEPT)
        .append("context trigger % on %.%: another pgtrail source tracks this table', quote_ident(t.tgname),")
        .append(" quote_ident(t.nspname), quote_ident(t.relname);\n")
        .append("    ELSE\n      stmt := format('DROP TRIGGER %I ON %I.%I', t.tgname, t.nspname, t.relname);\n")
        .append("      EXECUTE stmt;\n      RAISE NOTICE '").append(DID).append("%', stmt;\n    END IF;\n  END LOOP;\n")
        .append("  -- the context function, if pgtrail created it (its comment says so) and nothing needs it any more\n")
        .append("  FOR t IN SELECT n.nspname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace")
        .append(" WHERE p.proname = '").append(Catalog.CONTEXT_FUNCTION).append("' AND p.pronargs = 0")
        .append(" AND pg_catalog.obj_description(p.oid, 'pg_proc') = ").append(Identifiers.literal(TrackingSql.FUNCTION_MARKER))
        .append("\n  LOOP\n")
        .append("    IF bemi THEN\n      RAISE NOTICE '").append(KEPT).append("context function %.")
        .append(Catalog.CONTEXT_FUNCTION).append("(): Bemi''s migration is installed and relies on it', quote_ident(t.nspname);\n")
        .append("    ELSIF EXISTS (SELECT 1 FROM pg_catalog.pg_trigger tg JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid")
        .append(" JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = '")
        .append(Catalog.CONTEXT_FUNCTION).append("' AND n.nspname = t.nspname) THEN\n")
        .append("      RAISE NOTICE '").append(KEPT).append("context function %.").append(Catalog.CONTEXT_FUNCTION)
        .append("(): triggers still call it (Bemi''s, yours, or another pgtrail source''s)', quote_ident(t.nspname);\n")
        .append("    ELSE\n      stmt := format('DROP FUNCTION %I.").append(Catalog.CONTEXT_FUNCTION).append("()', t.nspname);\n")
        .append("      EXECUTE stmt;\n      RAISE NOTICE '").append(DID).append("%', stmt;\n    END IF;\n  END LOOP;\n");
    if (r.dropPublicationAndSlot()) {
      b.append("  FOR t IN SELECT n.nspname, c.relname, c.oid FROM jsonb_array_elements(COALESCE(marker -> 'replicaIdentityFull',")
          .append(" '[]')) e\n      JOIN pg_catalog.pg_namespace n ON n.nspname = e ->> 0")
          .append(" JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = e ->> 1\n")
          .append("      WHERE c.relreplident = 'f' ORDER BY 1, 2\n  LOOP\n")
          .append("    IF EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_publication p")
          .append(" ON p.oid = pr.prpubid WHERE pr.prrelid = COALESCE(pg_catalog.pg_partition_root(t.oid), t.oid)")
          .append(" AND p.pubname <> ").append(pub).append(") THEN\n")
          .append("      RAISE NOTICE '").append(KEPT).append("REPLICA IDENTITY FULL on %.%: another publication")
          .append(" publishes it', quote_ident(t.nspname), quote_ident(t.relname);\n")
          .append("    ELSE\n      BEGIN\n")
          .append("        stmt := format('ALTER TABLE %I.%I REPLICA IDENTITY DEFAULT', t.nspname, t.relname);\n")
          .append("        EXECUTE stmt;\n        RAISE NOTICE '").append(DID).append("%', stmt;\n")
          .append("      EXCEPTION WHEN OTHERS THEN\n        RAISE NOTICE '").append(KEPT)
          .append("REPLICA IDENTITY FULL on %.%: %', quote_ident(t.nspname), quote_ident(t.relname), SQLERRM;\n")
          .append("      END;\n    END IF;\n  END LOOP;\n")
          .append("  IF EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = ").append(slot).append(") THEN\n")
          .append("    IF marker ->> 'slot' = ").append(slot).append(" THEN\n")
          .append("      PERFORM pg_catalog.pg_drop_replication_slot(").append(slot).append(");\n")
          .append("      RAISE NOTICE '").append(DID).append("%', ")
          .append(Identifiers.literal(SetupSql.dropSlot(r.slot()).inline())).append(";\n")
          .append("    ELSE\n      RAISE NOTICE '").append(KEPT).append("%', ").append(Identifiers.literal("slot "
              + Identifiers.quote(r.slot()) + " is not the one recorded with the publication: left alone"))
          .append(";\n    END IF;\n  END IF;\n")
          .append("  stmt := format('DROP PUBLICATION %I', ").append(pub).append(");\n")
          .append("  EXECUTE stmt;\n  RAISE NOTICE '").append(DID).append("%', stmt;\n");
    } else {
      b.append("  RAISE NOTICE '").append(KEPT).append("%', ").append(Identifiers.literal("publication "
              + Identifiers.quote(pubName) + " and slot " + Identifiers.quote(r.slot())
              + " retained (reclaimPolicy retain, or no --drop); REPLICA IDENTITY FULL kept")).append(";\n");
    }
    return b.append("END\n").append(DO).toString();
  }

  /**
   * The setup plan's slot step with failover: on PostgreSQL 17+ the slot is created with failover, before
   * that plainly; decided at run time, as the printed script is built without a server. Nothing when the slot
   * exists. Announces what it did as the plan's other steps do.
   */
  private static String createSlotStep(String slot) {
    String failover = ReplicationSlots.createFailoverSlot(slot).inline();
    String plain = ReplicationSlots.createSlot(slot).inline();
    return "DO $do$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = "
        + Identifiers.literal(slot) + ") THEN\n"
        + "    -- failover: standbys with sync_replication_slots = on keep the slot across a promotion\n"
        + "    IF current_setting('server_version_num')::int >= " + FailoverSlots.FIRST_MAJOR * 10000 + " THEN\n"
        + "      PERFORM " + failover.substring("SELECT ".length()) + ";\n"
        + "      RAISE NOTICE '" + DID + "%', " + Identifiers.literal(failover) + ";\n"
        + "    ELSE\n"
        + "      PERFORM " + plain.substring("SELECT ".length()) + ";\n"
        + "      RAISE NOTICE '" + DID + "%', " + Identifiers.literal(plain) + ";\n"
        + "    END IF;\n  END IF;\nEND\n$do$";
  }

  /**
   * The plan's step on PostgreSQL 18: REPLICA IDENTITY FULL that pgtrail set (the marker lists it) goes back to
   * DEFAULT on tables that now have a virtual generated column and a primary key, so they stay tracked (key-only
   * before images) instead of being left out. Guarded like the plan's other steps.
   */
  private static String keepFullOffVirtualColumnsStep(String publication) {
    return "DO $do$\nDECLARE\n  t record;\n  stmt text;\n  marker jsonb;\nBEGIN\n"
        + "  IF current_setting('server_version_num')::int < " + GeneratedColumns.FIRST_MAJOR * 10000 + " THEN\n    RETURN;\n  END IF;\n"
        + "  PERFORM pg_catalog.set_config('lock_timeout', '" + SETUP_LOCK_TIMEOUT + "', true);\n"
        + readMarker(publication)
        + "  FOR t IN SELECT n.nspname, c.relname FROM pg_catalog.pg_class c\n"
        + "      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace\n"
        + "    WHERE c.relreplident = 'f' AND NOT " + GeneratedColumns.withoutVirtualColumns("c") + "\n"
        + "      AND EXISTS (SELECT 1 FROM pg_catalog.pg_index pk WHERE pk.indrelid = c.oid AND pk.indisprimary)\n"
        + "      AND COALESCE(marker -> 'replicaIdentityFull', '[]') @> jsonb_build_array(jsonb_build_array(n.nspname,"
        + " c.relname))\n"
        + "  LOOP\n"
        + "    BEGIN\n"
        + "      stmt := format('ALTER TABLE %I.%I REPLICA IDENTITY DEFAULT', t.nspname, t.relname);\n"
        + "      EXECUTE stmt;\n"
        + "      RAISE NOTICE '" + DID + "%', stmt;\n"
        + "    EXCEPTION WHEN OTHERS THEN\n"
        + "      RAISE WARNING 'pgtrail: cannot set REPLICA IDENTITY DEFAULT on %.%: %', quote_ident(t.nspname),"
        + " quote_ident(t.relname), SQLERRM\n"
        + "        USING HINT = 'PostgreSQL 18 rejects UPDATE and DELETE on a published table whose REPLICA IDENTITY FULL"
        + " holds a virtual generated column; the table stays out of tracking until its identity is DEFAULT.';\n"
        + "    END;\n"
        + "  END LOOP;\nEND\n$do$";
  }
}
