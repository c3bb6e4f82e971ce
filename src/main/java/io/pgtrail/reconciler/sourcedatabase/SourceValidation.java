package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.READY;

import io.pgtrail.api.v1alpha1.CredentialsSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.preflight.Provider;
import io.pgtrail.reconciler.support.Names;
import java.util.ArrayList;
import java.util.List;

/** The validate step: cross-field rules the CRD schema cannot express, and defaults. Touches no database. */
final class SourceValidation {
  private SourceValidation() {}

  static boolean validate(SourceRun run) {
    SourceDatabaseSpec spec = run.source.getSpec();
    List<String> problems = new ArrayList<>();
    if (spec == null) {
      problems.add("spec is missing");
    } else if (!spec.invalidFields().isEmpty()) {
      problems.addAll(spec.invalidFields());
    } else {
      if (spec.connection == null || blank(spec.connection.host) || blank(spec.connection.database)) {
        problems.add("spec.connection needs host and database");
      } else if (spec.connection.credentialsSecretRef == null || blank(spec.connection.credentialsSecretRef.name)) {
        problems.add("spec.connection.credentialsSecretRef.name is required");
      } else if (spec.connection.sslMode != null && spec.connection.sslMode.verifiesServer()
          && spec.connection.caCertSecretRef == null) {
        problems.add("spec.connection.sslMode " + spec.connection.sslMode.libpq() + " needs caCertSecretRef");
      }
      if (spec.destination == null || blank(spec.destination.host) || blank(spec.destination.database)
          || spec.destination.credentialsSecretRef == null) {
        problems.add("spec.destination needs host, database and credentialsSecretRef");
      } else if (spec.destination.sslMode != null && spec.destination.sslMode.verifiesServer()
          && spec.destination.caCertSecretRef == null) {
        problems.add("spec.destination.sslMode " + spec.destination.sslMode.libpq() + " needs caCertSecretRef");
      }
      if (spec.provider == null) {
        problems.add("spec.provider is required (selfManaged, awsRds, gcpCloudSql, supabase, neon, render,"
            + " digitalOcean, azure, timescale)");
      } else {
        run.provider = Provider.fromId(spec.provider.id());
        if (managedRole(spec) && !run.provider.canCreateReplicationRole()) {
          problems.add(spec.provider.id() + " does not allow creating REPLICATION roles:"
              + " use credentials.mode provided with the database's own user");
        }
      }
      run.publication = spec.publicationName != null ? spec.publicationName
          : Names.replicationName(run.namespace(), run.name());
      run.slot = spec.slotName != null ? spec.slotName : run.publication;
      checkName(problems, "publicationName", run.publication);
      checkName(problems, "slotName", run.slot);
      if (managedRole(spec) && spec.credentials.roleName != null) {
        checkName(problems, "credentials.roleName", spec.credentials.roleName);
      }
      SourceDatabaseStatus previous = run.source.getStatus();
      if (previous != null && previous.slotName != null && !previous.slotName.equals(run.slot)) {
        problems.add("slotName cannot change from " + previous.slotName + " to " + run.slot
            + ": create a new SourceDatabase for a new slot");
      }
      if (previous != null && previous.publicationName != null && !previous.publicationName.equals(run.publication)) {
        problems.add("publicationName cannot change from " + previous.publicationName + " to " + run.publication);
      }
      if (spec.sshTunnel != null && spec.connection != null && spec.connection.sslMode == SslModeSpec.VERIFY_FULL) {
        problems.add("spec.connection.sslMode verify-full cannot check the server name through an SSH tunnel:"
            + " use verify-ca (or require) with sshTunnel");
      }
    }
    if (!problems.isEmpty()) {
      run.conditions.setFalse(READY, Reason.INVALID_SPEC.camelCase(), String.join("; ", problems));
      SourceSummary.waitForAll(run, Reason.INVALID_SPEC, "a valid spec");
      return false;
    }
    return true;
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  private static void checkName(List<String> problems, String field, String value) {
    try {
      Identifiers.requireReplicationName(field, value);
    } catch (IllegalArgumentException e) {
      problems.add("spec." + field + ": " + e.getMessage());
    }
  }

  static boolean managedRole(SourceDatabaseSpec spec) {
    return spec.credentials != null && spec.credentials.mode == CredentialsSpec.Mode.MANAGED_ROLE;
  }

}
