package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Catalog;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.Sql;
import io.pgtrail.postgres.slots.FailoverSlots;
import java.util.List;

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

  // ---- publication ----------------------------------------------------------------------------

  public static String dropPublication(String publication) {
    return "DROP PUBLICATION IF EXISTS " + Identifiers.quote(publication);
  }

  public static String commentOnPublication(String publication, String comment) {
    return "COMMENT ON PUBLICATION " + Identifiers.quote(publication) + " IS " + Identifiers.literal(comment);
  }

  // ---- context function (Bemi's protocol, Bemi's names) -------------------------------------

  /**
   * Bemi's row trigger function: a {@code /*Bemi {json} Bemi*}{@code /} comment in the running query
   * becomes a transactional logical message with prefix {@code _bemi}, which the worker attaches as
   * context to the row change that follows it. Unlike Bemi's own, its search_path is pinned. The message is
   * not wrapped in an exception block on purpose: a subtransaction there puts the first message of a
   * transaction after its row in the decoded stream, and the per-row pairing loses it.
   */
  public static String createContextFunction(String schema) {
    return "CREATE FUNCTION " + Identifiers.quote(schema) + "." + Catalog.CONTEXT_FUNCTION + "()\n"
        + "  RETURNS TRIGGER LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS " + BODY_TAG + "\n"
        + contextFunctionBody()
        + BODY_TAG;
  }

  /** {@link #createContextFunction} as a format() template with the schema as {@code %I}. */
  static String createContextFunctionTemplate() {
    return "CREATE FUNCTION %I." + Catalog.CONTEXT_FUNCTION + "()\n"
        + "  RETURNS TRIGGER LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS " + BODY_TAG + "\n"
        + contextFunctionBody().replace("%", "%%")
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


  public static Sql dropSlot(String slot) {
    return new Sql("SELECT pg_drop_replication_slot(?)", List.of(slot));
  }
}
