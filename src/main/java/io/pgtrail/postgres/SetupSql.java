package io.pgtrail.postgres;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Pure SQL builders for setup and teardown: text in, text out, tested as text. Identifiers are quoted
 * with {@link Identifiers#quote}; the few literals that DDL cannot take as parameters (function bodies,
 * comments) go through {@link Identifiers#literal}. Statements that can take parameters are built as
 * {@link Sql} with bound values.
 */
public final class SetupSql {
  /** Dollar-quote tag for bodies; a body never contains it because all names inside are literals. */
  static final String BODY_TAG = "$pgtrail$";

  private SetupSql() {}

  /** A statement with bound parameters. */
  public record Sql(String text, List<String> params) {
    public Sql {
      params = List.copyOf(params);
    }

    /** The statement with parameters inlined as literals: for scripts a person reads and runs. */
    public String inline() {
      String out = text;
      for (String p : params) {
        int at = out.indexOf('?');
        out = out.substring(0, at) + Identifiers.literal(p) + out.substring(at + 1);
      }
      return out;
    }
  }

  // ---- roles -------------------------------------------------------------------------------

  /** CREATE ROLE for a least-privilege replication role; the password is set separately, hashed. */
  public static String createReplicationRole(String role, Provider provider) {
    String replication = switch (provider) {
      case SELF_MANAGED, NEON -> "REPLICATION";
      default -> "NOREPLICATION";
    };
    return "CREATE ROLE " + Identifiers.quote(role)
        + " WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE " + replication;
  }

  /** The provider's way to give the role the replication right, after CREATE ROLE. */
  public static List<String> grantReplication(String role, Provider provider) {
    return switch (provider) {
      case AWS_RDS -> List.of("GRANT rds_replication TO " + Identifiers.quote(role));
      case GCP_CLOUD_SQL, DIGITAL_OCEAN, AZURE -> List.of("ALTER ROLE " + Identifiers.quote(role) + " WITH REPLICATION");
      default -> List.of();
    };
  }

  public static List<String> grantSchemaRead(String role, String schema) {
    String r = Identifiers.quote(role);
    String s = Identifiers.quote(schema);
    return List.of(
        "GRANT USAGE ON SCHEMA " + s + " TO " + r,
        "GRANT SELECT ON ALL TABLES IN SCHEMA " + s + " TO " + r,
        "ALTER DEFAULT PRIVILEGES IN SCHEMA " + s + " GRANT SELECT ON TABLES TO " + r);
  }

  public static List<String> grantTableRead(String role, QualifiedName table) {
    return List.of(
        "GRANT USAGE ON SCHEMA " + Identifiers.quote(table.schema()) + " TO " + Identifiers.quote(role),
        "GRANT SELECT ON TABLE " + table.quoted() + " TO " + Identifiers.quote(role));
  }

  // ---- publication -------------------------------------------------------------------------

  public static String createPublication(String publication, PublicationShape shape) {
    String objects = shape.objectList();
    return "CREATE PUBLICATION " + Identifiers.quote(publication) + (objects.isEmpty() ? "" : " FOR " + objects);
  }

  /**
   * Statements that turn an existing publication into {@code shape}. ALTER ... SET cannot switch to or
   * from FOR ALL TABLES, and cannot empty a publication, so those cases drop and re-create it (in the
   * caller's transaction, so no decoding ever sees it missing).
   */
  public static List<String> convergePublication(String publication, boolean currentlyAllTables,
      PublicationShape shape) {
    String objects = shape.objectList();
    if (shape.allTables() || currentlyAllTables || objects.isEmpty()) {
      return List.of(dropPublication(publication), createPublication(publication, shape));
    }
    return List.of("ALTER PUBLICATION " + Identifiers.quote(publication) + " SET " + objects);
  }

  public static String dropPublication(String publication) {
    return "DROP PUBLICATION IF EXISTS " + Identifiers.quote(publication);
  }

  public static String commentOnPublication(String publication, String comment) {
    return "COMMENT ON PUBLICATION " + Identifiers.quote(publication) + " IS " + Identifiers.literal(comment);
  }

  // ---- replica identity --------------------------------------------------------------------

  public static String replicaIdentityFull(QualifiedName table) {
    return "ALTER TABLE " + table.quoted() + " REPLICA IDENTITY FULL";
  }

  public static String replicaIdentityDefault(QualifiedName table) {
    return "ALTER TABLE " + table.quoted() + " REPLICA IDENTITY DEFAULT";
  }

  // ---- context triggers (Bemi's protocol, Bemi's names) -------------------------------------

  /**
   * Bemi's row trigger function: a {@code /*Bemi {json} Bemi*}{@code /} comment in the running query
   * becomes a transactional logical message with prefix {@code _bemi}, which the worker attaches as
   * context to the row changes that follow it.
   */
  public static String createContextFunction(String schema) {
    return "CREATE OR REPLACE FUNCTION " + Identifiers.quote(schema) + "." + Catalog.CONTEXT_FUNCTION + "()\n"
        + "  RETURNS TRIGGER LANGUAGE plpgsql AS " + BODY_TAG + "\n"
        + contextFunctionBody()
        + BODY_TAG;
  }

  static String contextFunctionBody() {
    return "DECLARE\n"
        + "  _bemi_metadata TEXT;\n"
        + "BEGIN\n"
        + "  SELECT split_part(split_part(current_query(), '/*Bemi ', 2), ' Bemi*/', 1) INTO _bemi_metadata;\n"
        + "  IF _bemi_metadata <> '' THEN\n"
        + "    PERFORM pg_logical_emit_message(true, '_bemi', _bemi_metadata);\n"
        + "  END IF;\n"
        + "  IF (TG_OP = 'DELETE') THEN\n"
        + "    RETURN OLD;\n"
        + "  END IF;\n"
        + "  RETURN NEW;\n"
        + "END\n";
  }

  /** Bemi's trigger name for a table: {@code _bemi_row_trigger_<table>}, cut to 63 bytes as PostgreSQL would. */
  public static String contextTriggerName(QualifiedName table) {
    return truncateToBytes(Catalog.CONTEXT_TRIGGER_PREFIX + table.table(), Identifiers.MAX_IDENTIFIER_BYTES);
  }

  public static String createContextTrigger(QualifiedName table, String functionSchema) {
    return "CREATE TRIGGER " + Identifiers.quote(contextTriggerName(table))
        + " BEFORE INSERT OR UPDATE OR DELETE ON " + table.quoted()
        + " FOR EACH ROW EXECUTE FUNCTION " + Identifiers.quote(functionSchema) + "." + Catalog.CONTEXT_FUNCTION + "()";
  }

  public static String dropTrigger(QualifiedName table, String trigger) {
    return "DROP TRIGGER IF EXISTS " + Identifiers.quote(trigger) + " ON " + table.quoted();
  }

  public static String dropContextFunction(String schema) {
    return "DROP FUNCTION IF EXISTS " + Identifiers.quote(schema) + "." + Catalog.CONTEXT_FUNCTION + "()";
  }

  static String truncateToBytes(String s, int maxBytes) {
    if (s.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
      return s;
    }
    StringBuilder sb = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + len > maxBytes) {
        break;
      }
      sb.appendCodePoint(cp);
      bytes += len;
      i += Character.charCount(cp);
    }
    return sb.toString();
  }

  // ---- tracking of new tables (the seed's _bemi_set_replica_identity, under pgtrail's names) ----

  /** What the new-table procedure does besides REPLICA IDENTITY FULL. */
  public record NewTableRules(String publication, TrackingScope scope, boolean addToPublication,
      String contextFunctionSchema) {}

  /** A SQL predicate over {@code n} (pg_namespace) and {@code c} (pg_class) selecting the scope's tables. */
  static String scopePredicate(TrackingScope scope) {
    List<String> parts = new ArrayList<>();
    parts.add("c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'");
    parts.add("n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'"
        + " AND n.nspname NOT LIKE 'pg\\_temp%'");
    if (!scope.allTables()) {
      List<String> included = new ArrayList<>();
      if (!scope.effectiveSchemas().isEmpty()) {
        included.add("n.nspname IN (" + literals(scope.effectiveSchemas()) + ")");
      }
      if (!scope.tables().isEmpty()) {
        included.add("(n.nspname, c.relname) IN (" + pairs(scope.tables()) + ")");
      }
      parts.add("(" + String.join(" OR ", included) + ")");
    }
    if (!scope.excludeTables().isEmpty()) {
      parts.add("(n.nspname, c.relname) NOT IN (" + pairs(scope.excludeTables()) + ")");
    }
    return String.join("\n      AND ", parts);
  }

  private static String literals(List<String> values) {
    return values.stream().map(Identifiers::literal).collect(Collectors.joining(", "));
  }

  private static String pairs(List<QualifiedName> names) {
    return names.stream()
        .map(t -> "(" + Identifiers.literal(t.schema()) + "::name, " + Identifiers.literal(t.table()) + "::name)")
        .collect(Collectors.joining(", "));
  }

  /**
   * The procedure the event trigger calls after CREATE TABLE: REPLICA IDENTITY FULL on new tables of the
   * scope, and (when asked) adding them to a table-list publication and installing context triggers.
   * Every action is guarded, so a user without rights gets a WARNING, never a failed CREATE TABLE, and
   * what it changed is recorded in the publication's ownership marker.
   */
  public static String createNewTableProcedure(ManagedNames names, String schema, NewTableRules rules) {
    return "CREATE OR REPLACE PROCEDURE " + Identifiers.quote(schema) + "." + Identifiers.quote(names.procedure())
        + "()\n  LANGUAGE plpgsql AS " + BODY_TAG + "\n" + newTableProcedureBody(rules) + BODY_TAG;
  }

  static String newTableProcedureBody(NewTableRules rules) {
    String pub = Identifiers.literal(rules.publication());
    String predicate = scopePredicate(rules.scope());
    StringBuilder b = new StringBuilder();
    b.append("DECLARE\n")
        .append("  t record;\n")
        .append("  changed jsonb := '[]';\n")
        .append("  triggered jsonb := '[]';\n")
        .append("  marker jsonb;\n")
        .append("BEGIN\n")
        .append("  FOR t IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n")
        .append("    WHERE ").append(predicate).append("\n")
        .append("      AND c.relreplident <> 'f'\n")
        .append("  LOOP\n")
        .append("    BEGIN\n")
        .append("      EXECUTE format('ALTER TABLE %I.%I REPLICA IDENTITY FULL', t.nspname, t.relname);\n")
        .append("      changed := changed || jsonb_build_array(jsonb_build_array(t.nspname, t.relname));\n")
        .append("    EXCEPTION WHEN insufficient_privilege THEN\n")
        .append("      RAISE WARNING 'pgtrail: cannot set REPLICA IDENTITY FULL on %.%: not its owner', t.nspname, t.relname;\n")
        .append("    END;\n")
        .append("  END LOOP;\n");
    if (rules.addToPublication()) {
      b.append("  FOR t IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n")
          .append("    WHERE ").append(predicate).append("\n")
          .append("      AND NOT EXISTS (SELECT 1 FROM pg_publication_tables pt WHERE pt.pubname = ").append(pub)
          .append(" AND pt.schemaname = n.nspname AND pt.tablename = c.relname)\n")
          .append("  LOOP\n")
          .append("    BEGIN\n")
          .append("      EXECUTE format('ALTER PUBLICATION %I ADD TABLE %I.%I', ").append(pub)
          .append(", t.nspname, t.relname);\n")
          .append("    EXCEPTION WHEN insufficient_privilege THEN\n")
          .append("      RAISE WARNING 'pgtrail: cannot add %.% to publication %: not its owner', t.nspname, t.relname, ")
          .append(pub).append(";\n")
          .append("    END;\n")
          .append("  END LOOP;\n");
    }
    if (rules.contextFunctionSchema() != null) {
      b.append("  FOR t IN SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace\n")
          .append("    WHERE ").append(predicate).append("\n")
          .append("      AND NOT EXISTS (SELECT 1 FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid")
          .append(" WHERE tg.tgrelid = c.oid AND p.proname = '").append(Catalog.CONTEXT_FUNCTION).append("')\n")
          .append("  LOOP\n")
          .append("    BEGIN\n")
          .append("      EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE ON %I.%I FOR EACH ROW")
          .append(" EXECUTE FUNCTION %I.").append(Catalog.CONTEXT_FUNCTION).append("()', left('")
          .append(Catalog.CONTEXT_TRIGGER_PREFIX).append("' || t.relname, 63), t.nspname, t.relname, ")
          .append(Identifiers.literal(rules.contextFunctionSchema())).append(");\n")
          .append("      triggered := triggered || jsonb_build_array(jsonb_build_array(t.nspname, t.relname));\n")
          .append("    EXCEPTION WHEN insufficient_privilege THEN\n")
          .append("      RAISE WARNING 'pgtrail: cannot add the context trigger to %.%: not its owner', t.nspname, t.relname;\n")
          .append("    END;\n")
          .append("  END LOOP;\n");
    }
    b.append("  IF changed <> '[]' OR triggered <> '[]' THEN\n")
        .append("    BEGIN\n")
        .append("      SELECT obj_description(oid, 'pg_publication')::jsonb INTO marker FROM pg_publication WHERE pubname = ")
        .append(pub).append(";\n")
        .append("      IF marker ->> 'managedBy' = 'pgtrail' THEN\n")
        .append("        marker := jsonb_set(marker, '{replicaIdentityFull}', COALESCE(marker -> 'replicaIdentityFull', '[]') || changed);\n")
        .append("        marker := jsonb_set(marker, '{contextTriggers}', COALESCE(marker -> 'contextTriggers', '[]') || triggered);\n")
        .append("        EXECUTE format('COMMENT ON PUBLICATION %I IS %L', ").append(pub).append(", marker::text);\n")
        .append("      END IF;\n")
        .append("    EXCEPTION WHEN insufficient_privilege OR invalid_text_representation THEN\n")
        .append("      NULL;\n")
        .append("    END;\n")
        .append("  END IF;\n")
        .append("END\n");
    return b.toString();
  }

  public static String createNewTableFunction(ManagedNames names, String schema) {
    return "CREATE OR REPLACE FUNCTION " + Identifiers.quote(schema) + "." + Identifiers.quote(names.function())
        + "()\n  RETURNS event_trigger LANGUAGE plpgsql AS " + BODY_TAG + "\n" + newTableFunctionBody(names, schema)
        + BODY_TAG;
  }

  static String newTableFunctionBody(ManagedNames names, String schema) {
    return "BEGIN\n  CALL " + Identifiers.quote(schema) + "." + Identifiers.quote(names.procedure()) + "();\nEND\n";
  }

  public static String createEventTrigger(ManagedNames names, String schema) {
    return "CREATE EVENT TRIGGER " + Identifiers.quote(names.eventTrigger())
        + " ON ddl_command_end WHEN TAG IN ('CREATE TABLE', 'CREATE TABLE AS', 'SELECT INTO')"
        + " EXECUTE FUNCTION " + Identifiers.quote(schema) + "." + Identifiers.quote(names.function()) + "()";
  }

  /** The seed's "Disconnecting" statements, under pgtrail's names. */
  public static List<String> dropNewTableTracking(ManagedNames names, String schema) {
    return List.of(
        "DROP EVENT TRIGGER IF EXISTS " + Identifiers.quote(names.eventTrigger()),
        "DROP FUNCTION IF EXISTS " + Identifiers.quote(schema) + "." + Identifiers.quote(names.function()) + "()",
        "DROP PROCEDURE IF EXISTS " + Identifiers.quote(schema) + "." + Identifiers.quote(names.procedure()) + "()");
  }

  // ---- slot --------------------------------------------------------------------------------

  public static Sql createSlot(String slot) {
    return new Sql("SELECT pg_create_logical_replication_slot(?, 'pgoutput')", List.of(slot));
  }

  public static Sql dropSlot(String slot) {
    return new Sql("SELECT pg_drop_replication_slot(?)", List.of(slot));
  }
}
