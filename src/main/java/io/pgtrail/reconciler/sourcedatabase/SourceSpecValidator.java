package io.pgtrail.reconciler.sourcedatabase;

import io.pgtrail.api.v1alpha1.CredentialsSpec;
import io.pgtrail.api.v1alpha1.PostgresEndpointSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.reconciler.support.Names;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The rules of a SourceDatabase spec that the CRD schema cannot express, and the names derived from it
 * (publication, slot, managed role): a pure function of the spec, the resource's namespace and name, and
 * the names its status already reports. No Kubernetes client, no database.
 */
final class SourceSpecValidator {
  private SourceSpecValidator() {}

  /** One rule a spec breaks: the field, the condition reason, and a message that says how to fix it. */
  record FieldError(String field, Reason reason, String message) {}

  /**
   * What a valid spec resolves to.
   *
   * @param managedRoleName the role the operator creates with credentials.mode managedRole, else null
   */
  record ResolvedSource(Provider provider, String publication, String slot, String managedRoleName) {}

  sealed interface Result permits Valid, Invalid {}

  record Valid(ResolvedSource source) implements Result {}

  record Invalid(List<FieldError> errors) implements Result {
    Invalid {
      errors = List.copyOf(errors);
    }

    /** The errors' messages in rule order, as the InvalidSpec condition shows them. */
    String message() {
      return errors.stream().map(FieldError::message).collect(Collectors.joining("; "));
    }
  }

  /**
   * @param previous the status the source reported last (its slot and publication names are immutable), or null
   */
  static Result validate(SourceDatabaseSpec spec, String namespace, String name, SourceDatabaseStatus previous) {
    List<FieldError> errors = new ArrayList<>();
    if (spec == null) {
      errors.add(error("spec", "spec is missing"));
      return new Invalid(errors);
    }
    if (!spec.invalidFields().isEmpty()) {
      spec.invalidFields().forEach(problem -> errors.add(error(fieldOf(problem), problem)));
      return new Invalid(errors);
    }
    checkConnection(spec, errors);
    checkDestination(spec, errors);
    Provider provider = null;
    if (spec.provider == null) {
      errors.add(error("spec.provider", "spec.provider is required (selfManaged, awsRds, gcpCloudSql, supabase, neon,"
          + " render, digitalOcean, azure, timescale)"));
    } else {
      provider = Provider.fromId(spec.provider.id());
      if (managedRole(spec) && !provider.canCreateReplicationRole()) {
        errors.add(error("spec.credentials.mode", spec.provider.id() + " does not allow creating REPLICATION roles:"
            + " use credentials.mode provided with the database's own user"));
      }
    }
    String publication = spec.publicationName != null ? spec.publicationName : Names.replicationName(namespace, name);
    String slot = spec.slotName != null ? spec.slotName : publication;
    checkName(errors, "publicationName", publication);
    checkName(errors, "slotName", slot);
    if (managedRole(spec) && spec.credentials.roleName != null) {
      checkName(errors, "credentials.roleName", spec.credentials.roleName);
    }
    if (previous != null && previous.slotName != null && !previous.slotName.equals(slot)) {
      errors.add(error("spec.slotName", "slotName cannot change from " + previous.slotName + " to " + slot
          + ": create a new SourceDatabase for a new slot"));
    }
    if (previous != null && previous.publicationName != null && !previous.publicationName.equals(publication)) {
      errors.add(error("spec.publicationName", "publicationName cannot change from " + previous.publicationName
          + " to " + publication));
    }
    if (spec.sshTunnel != null && spec.connection != null && spec.connection.sslMode == SslModeSpec.VERIFY_FULL) {
      errors.add(error("spec.connection.sslMode", "spec.connection.sslMode verify-full cannot check the server name"
          + " through an SSH tunnel: use verify-ca (or require) with sshTunnel"));
    }
    if (!errors.isEmpty()) {
      return new Invalid(errors);
    }
    String roleName = !managedRole(spec) ? null : spec.credentials.roleName != null ? spec.credentials.roleName : slot;
    return new Valid(new ResolvedSource(provider, publication, slot, roleName));
  }

  static boolean managedRole(SourceDatabaseSpec spec) {
    return spec.credentials != null && spec.credentials.mode == CredentialsSpec.Mode.MANAGED_ROLE;
  }

  private static void checkConnection(SourceDatabaseSpec spec, List<FieldError> errors) {
    if (spec.connection == null || blank(spec.connection.host) || blank(spec.connection.database)) {
      errors.add(error("spec.connection", "spec.connection needs host and database"));
    } else if (spec.connection.credentialsSecretRef == null || blank(spec.connection.credentialsSecretRef.name)) {
      errors.add(error("spec.connection.credentialsSecretRef.name",
          "spec.connection.credentialsSecretRef.name is required"));
    } else {
      checkCaCertificate("spec.connection", spec.connection, errors);
    }
  }

  private static void checkDestination(SourceDatabaseSpec spec, List<FieldError> errors) {
    if (spec.destination == null || blank(spec.destination.host) || blank(spec.destination.database)
        || spec.destination.credentialsSecretRef == null) {
      errors.add(error("spec.destination", "spec.destination needs host, database and credentialsSecretRef"));
    } else {
      checkCaCertificate("spec.destination", spec.destination, errors);
    }
  }

  /** A mode that verifies the server needs the CA certificate to verify it with. */
  private static void checkCaCertificate(String field, PostgresEndpointSpec endpoint, List<FieldError> errors) {
    if (endpoint.sslMode != null && endpoint.sslMode.verifiesServer() && endpoint.caCertSecretRef == null) {
      errors.add(error(field + ".caCertSecretRef", field + ".sslMode " + endpoint.sslMode.libpq()
          + " needs caCertSecretRef"));
    }
  }

  private static void checkName(List<FieldError> errors, String field, String value) {
    try {
      Identifiers.requireReplicationName(field, value);
    } catch (IllegalArgumentException e) {
      errors.add(error("spec." + field, "spec." + field + ": " + e.getMessage()));
    }
  }

  private static FieldError error(String field, String message) {
    return new FieldError(field, Reason.INVALID_SPEC, message);
  }

  /** The field a decoding problem names ({@code spec.x.y: expected ...}), else the spec as a whole. */
  private static String fieldOf(String problem) {
    int colon = problem.indexOf(':');
    return colon > 0 && problem.startsWith("spec") ? problem.substring(0, colon) : "spec";
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }
}
