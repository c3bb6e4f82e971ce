package io.pgtrail.postgres;

import java.util.List;

/**
 * Setup and teardown as a commented SQL script a DBA can review and run with psql. Every step checks
 * the catalog itself (DO blocks, IF NOT EXISTS), so running the script twice is safe. Built offline:
 * where the right statement depends on the server (TABLES IN SCHEMA needs 15+), the script decides
 * at run time.
 */
public final class SetupScripts {
  /** The owner id written into the marker of publications created by a printed script. */
  public static final String SCRIPT_OWNER = "pgtrail-sql";

  private static final String DO_TAG = "$do$";

  private SetupScripts() {}

  public static String setup(SetupRequest r, String managedRoleName) {
    StringBuilder out = new StringBuilder();
    ManagedNames names = ManagedNames.forPublication(r.publication());
    String schema = routineSchema(r.scope());
    PublicationShape staticShape = PublicationShape.forScope(r.scope(), r.scope().tables(), 15);
    header(out, "setup", r);
    if (managedRoleName != null) {
      roleSteps(out, r, managedRoleName);
    }
    publicationStep(out, r, staticShape);
    out.append(GeneratedColumns.scriptStep(r.publication()));
    String contextSchema = null;
    if (r.contextTriggers()) {
      contextSchema = schema;
      step(out, "Context function (Bemi's protocol: /*Bemi {json} Bemi*/ comments become logical messages)");
      out.append("DO ").append(DO_TAG).append("\nDECLARE\n  marker jsonb;\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_proc WHERE proname = '")
          .append(Catalog.CONTEXT_FUNCTION).append("') THEN\n")
          .append(indent(SetupSql.createContextFunction(schema), "    ")).append(";\n")
          .append("    -- record it as pgtrail's, so teardown removes it\n")
          .append("    BEGIN\n      SELECT obj_description(oid, 'pg_publication')::jsonb INTO marker FROM pg_publication WHERE pubname = ")
          .append(Identifiers.literal(r.publication())).append(";\n")
          .append("      IF marker ->> 'managedBy' = 'pgtrail' THEN\n")
          .append("        EXECUTE format('COMMENT ON PUBLICATION %I IS %L', ").append(Identifiers.literal(r.publication()))
          .append(", jsonb_set(marker, '{contextFunctionSchema}', to_jsonb(").append(Identifiers.literal(schema))
          .append("::text))::text);\n      END IF;\n")
          .append("    EXCEPTION WHEN invalid_text_representation THEN\n      NULL;\n    END;\n  END IF;\nEND\n")
          .append(DO_TAG).append(";\n");
    }
    step(out, "REPLICA IDENTITY FULL on tracked tables" + (r.contextTriggers() ? ", context triggers" : "")
        + " (recorded in the ownership marker)");
    SetupSql.NewTableRules rules = new SetupSql.NewTableRules(r.publication(), r.scope(), false, contextSchema);
    out.append("DO ").append(SetupSql.BODY_TAG).append("\n").append(SetupSql.newTableProcedureBody(rules))
        .append(SetupSql.BODY_TAG).append(";\n");
    if (r.trackNewTables() && r.scope().coversNewTables()) {
      step(out, "Track tables created later: REPLICA IDENTITY FULL"
          + (staticShape.allTables() ? "" : ", publication membership on PostgreSQL 14 or with exclusions")
          + (r.contextTriggers() ? ", context triggers" : ""));
      SetupSql.NewTableRules newRules = new SetupSql.NewTableRules(r.publication(), r.scope(),
          !staticShape.allTables(), contextSchema);
      out.append(SetupSql.createNewTableProcedure(names, schema, newRules)).append(";\n");
      out.append(SetupSql.createNewTableFunction(names, schema)).append(";\n");
      out.append("DO ").append(DO_TAG).append("\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = ")
          .append(Identifiers.literal(names.eventTrigger())).append(") THEN\n    ")
          .append(SetupSql.createEventTrigger(names, schema)).append(";\n  END IF;\nEND\n").append(DO_TAG).append(";\n");
    }
    step(out, "Logical replication slot (pgoutput), created after the publication");
    if (r.failoverSlot()) {
      out.append(FailoverSlots.createSlotScript(r.slot()));
      return out.toString();
    }
    out.append(SetupSql.createSlot(r.slot()).inline())
        .append("\n  WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ")
        .append(Identifiers.literal(r.slot())).append(");\n");
    return out.toString();
  }

  private static void roleSteps(StringBuilder out, SetupRequest r, String role) {
    step(out, "Least-privilege replication role");
    if (!r.provider().canCreateReplicationRole()) {
      out.append("-- ").append(r.provider().displayName())
          .append(" cannot create roles with REPLICATION: connect with the platform's own user instead.\n");
      return;
    }
    out.append("DO ").append(DO_TAG).append("\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ")
        .append(Identifiers.literal(role)).append(") THEN\n    ")
        .append(SetupSql.createReplicationRole(role, r.provider())).append(";\n");
    for (String grant : SetupSql.grantReplication(role, r.provider())) {
      out.append("    ").append(grant).append(";\n");
    }
    out.append("  END IF;\nEND\n").append(DO_TAG).append(";\n");
    out.append("-- Set its password in psql (hashed on your side, never sent in clear):  \\password ")
        .append(Identifiers.quote(role)).append("\n");
    for (String s : r.scope().effectiveSchemas()) {
      for (String grant : SetupSql.grantSchemaRead(role, s)) {
        out.append(grant).append(";\n");
      }
    }
    for (QualifiedName t : r.scope().tables()) {
      for (String grant : SetupSql.grantTableRead(role, t)) {
        out.append(grant).append(";\n");
      }
    }
  }

  private static void publicationStep(StringBuilder out, SetupRequest r, PublicationShape staticShape) {
    step(out, "Publication " + Identifiers.quote(r.publication()) + ", marked as pgtrail's");
    String pub = Identifiers.literal(r.publication());
    OwnerMarker marker = new OwnerMarker(SCRIPT_OWNER, r.slot(), List.of(), List.of(), null);
    String comment = SetupSql.commentOnPublication(r.publication(), marker.toComment());
    out.append("DO ").append(DO_TAG).append("\nDECLARE\n  tables text;\nBEGIN\n");
    if (staticShape.allTables()) {
      out.append("  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ").append(pub).append(") THEN\n    ")
          .append(SetupSql.createPublication(r.publication(), staticShape)).append(";\n    ").append(comment)
          .append(";\n  END IF;\n");
    } else {
      boolean schemaForm = !staticShape.schemas().isEmpty();
      if (schemaForm) {
        out.append("  IF current_setting('server_version_num')::int >= 150000 THEN\n")
            .append("    -- EXECUTE: PostgreSQL 14 cannot even parse TABLES IN SCHEMA\n")
            .append("    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ").append(pub).append(") THEN\n      ")
            .append("EXECUTE ").append(Identifiers.literal(SetupSql.createPublication(r.publication(), staticShape)))
            .append(";\n      ").append(comment)
            .append(";\n    ELSE\n      EXECUTE ")
            .append(Identifiers.literal(SetupSql.convergePublication(r.publication(), false, staticShape).get(0)))
            .append(";\n    END IF;\n    RETURN;\n  END IF;\n");
      }
      out.append("  SELECT string_agg(format('%I.%I', n.nspname, c.relname), ', ' ORDER BY n.nspname, c.relname)")
          .append(" INTO tables\n    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n    WHERE ")
          .append(SetupSql.scopePredicate(r.scope())).append(";\n")
          .append("  IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = ").append(pub).append(") THEN\n")
          .append("    EXECUTE format('CREATE PUBLICATION %I', ").append(pub)
          .append(") || COALESCE(' FOR TABLE ' || tables, '');\n    ").append(comment).append(";\n")
          .append("  ELSIF tables IS NOT NULL THEN\n")
          .append("    EXECUTE format('ALTER PUBLICATION %I SET TABLE ', ").append(pub).append(") || tables;\n")
          .append("  END IF;\n");
    }
    out.append("END\n").append(DO_TAG).append(";\n");
  }

  /** The seed's "Disconnecting" steps under pgtrail's names, and optionally the slot and publication. */
  public static String teardown(TeardownRequest r) {
    StringBuilder out = new StringBuilder();
    ManagedNames names = ManagedNames.forPublication(r.publication());
    String pub = Identifiers.literal(r.publication());
    out.append("-- pgtrail teardown for publication ").append(Identifiers.quote(r.publication()))
        .append(" and slot ").append(Identifiers.quote(r.slot())).append("\n")
        .append("-- Review, then run: psql \"postgresql://USER@HOST:PORT/DB\" -v ON_ERROR_STOP=1 -f teardown.sql\n")
        .append("-- Safe to run twice. It removes only what the publication's pgtrail marker records.\n");
    step(out, "Stop tracking new tables");
    out.append("DROP EVENT TRIGGER IF EXISTS ").append(Identifiers.quote(names.eventTrigger())).append(";\n");
    out.append("DO ").append(DO_TAG).append("\nDECLARE\n  r record;\nBEGIN\n")
        .append("  FOR r IN SELECT n.nspname, p.proname, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace\n")
        .append("    WHERE p.proname IN (").append(Identifiers.literal(names.function())).append(", ")
        .append(Identifiers.literal(names.procedure())).append(")\n  LOOP\n")
        .append("    EXECUTE format(CASE r.prokind WHEN 'p' THEN 'DROP PROCEDURE IF EXISTS %I.%I()'")
        .append(" ELSE 'DROP FUNCTION IF EXISTS %I.%I()' END, r.nspname, r.proname);\n  END LOOP;\nEND\n")
        .append(DO_TAG).append(";\n");
    step(out, "Remove the context triggers pgtrail installed"
        + (r.dropPublicationAndSlot() ? "; REPLICA IDENTITY back to DEFAULT where pgtrail set FULL" : ""));
    out.append("DO ").append(DO_TAG).append("\nDECLARE\n  marker jsonb;\n  t jsonb;\n  trg record;\nBEGIN\n")
        .append("  BEGIN\n    SELECT obj_description(oid, 'pg_publication')::jsonb INTO marker FROM pg_publication WHERE pubname = ")
        .append(pub).append(";\n  EXCEPTION WHEN invalid_text_representation THEN\n    marker := NULL;\n  END;\n")
        .append("  IF marker IS NULL OR marker ->> 'managedBy' IS DISTINCT FROM 'pgtrail' THEN\n")
        .append("    RAISE NOTICE 'pgtrail: publication % has no pgtrail marker; nothing else to undo', ").append(pub)
        .append(";\n    RETURN;\n  END IF;\n")
        .append("  FOR t IN SELECT * FROM jsonb_array_elements(COALESCE(marker -> 'contextTriggers', '[]')) LOOP\n")
        .append("    FOR trg IN SELECT tg.tgname, n.nspname, c.relname FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid\n")
        .append("      JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace\n")
        .append("      WHERE n.nspname = t ->> 0 AND c.relname = t ->> 1 AND p.proname = '")
        .append(Catalog.CONTEXT_FUNCTION).append("' AND NOT tg.tgisinternal\n    LOOP\n")
        .append("      EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I.%I', trg.tgname, trg.nspname, trg.relname);\n")
        .append("    END LOOP;\n  END LOOP;\n")
        .append("  IF marker ->> 'contextFunctionSchema' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_trigger tg")
        .append(" JOIN pg_proc p ON p.oid = tg.tgfoid WHERE p.proname = '").append(Catalog.CONTEXT_FUNCTION).append("') THEN\n")
        .append("    EXECUTE format('DROP FUNCTION IF EXISTS %I.").append(Catalog.CONTEXT_FUNCTION)
        .append("()', marker ->> 'contextFunctionSchema');\n  END IF;\n");
    if (r.dropPublicationAndSlot()) {
      out.append("  FOR t IN SELECT * FROM jsonb_array_elements(COALESCE(marker -> 'replicaIdentityFull', '[]')) LOOP\n")
          .append("    IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n")
          .append("        WHERE n.nspname = t ->> 0 AND c.relname = t ->> 1 AND c.relreplident = 'f') THEN\n")
          .append("      EXECUTE format('ALTER TABLE %I.%I REPLICA IDENTITY DEFAULT', t ->> 0, t ->> 1);\n")
          .append("    END IF;\n  END LOOP;\n");
    } else {
      out.append("  EXECUTE format('COMMENT ON PUBLICATION %I IS %L', ").append(pub)
          .append(", jsonb_set(marker, '{contextTriggers}', '[]')::text);\n");
    }
    out.append("END\n").append(DO_TAG).append(";\n");
    if (r.dropPublicationAndSlot()) {
      step(out, "Drop the slot and the publication (changes after this point can no longer be recorded)");
      out.append("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ")
          .append(Identifiers.literal(r.slot())).append(" AND NOT active;\n");
      out.append(SetupSql.dropPublication(r.publication())).append(";\n");
    } else {
      out.append("-- The slot ").append(Identifiers.quote(r.slot())).append(" and publication ")
          .append(Identifiers.quote(r.publication()))
          .append(" are kept (use --drop to remove them). A kept slot retains WAL until dropped:\n")
          .append("--   SELECT pg_drop_replication_slot(").append(Identifiers.literal(r.slot())).append(");\n")
          .append("--   ").append(SetupSql.dropPublication(r.publication())).append(";\n");
    }
    return out.toString();
  }

  private static void header(StringBuilder out, String what, SetupRequest r) {
    out.append("-- pgtrail ").append(what).append(" for publication ").append(Identifiers.quote(r.publication()))
        .append(", slot ").append(Identifiers.quote(r.slot())).append(" (provider: ").append(r.provider().id())
        .append(")\n")
        .append("-- Review, then run: psql \"postgresql://USER@HOST:PORT/DB\" -v ON_ERROR_STOP=1 -f ").append(what)
        .append(".sql\n")
        .append("-- Safe to run twice: every step checks the catalog before it acts.\n");
  }

  private static void step(StringBuilder out, String title) {
    out.append("\n-- ").append(title).append("\n");
  }

  private static String routineSchema(TrackingScope scope) {
    return scope.effectiveSchemas().contains(TrackingScope.DEFAULT_SCHEMA) || scope.allTables()
        ? TrackingScope.DEFAULT_SCHEMA
        : scope.schemasReferenced().stream().findFirst().orElse(TrackingScope.DEFAULT_SCHEMA);
  }

  private static String indent(String text, String prefix) {
    return prefix + text.replace("\n", "\n" + prefix);
  }
}
