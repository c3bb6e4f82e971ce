package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CREDENTIALS_RESOLVED;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.plan.ManagedRole;
import io.pgtrail.reconciler.support.Names;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import io.pgtrail.reconciler.support.SecretData;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The credentials a source is reached with: the referenced Secrets (users, passwords, CA certificates)
 * turned into connection settings for the operator and the worker, and the managed role's Secret.
 */
final class SourceCredentials {
  static final String MANAGED_ROLE_SUFFIX = "managed-role";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final ReconcilerSettings settings;
  private final SourceAccess access;
  private final OwnedResources owned;
  private final Supplier<OwnedCaches> caches;

  SourceCredentials(ReconcilerSettings settings, SourceAccess access, OwnedResources owned,
      Supplier<OwnedCaches> caches) {
    this.settings = settings;
    this.access = access;
    this.owned = owned;
    this.caches = caches;
  }

  boolean resolve(SourceRun run) {
    SourceDatabaseSpec spec = run.source.getSpec();
    try {
      SourceAccess.Endpoint source = access.source(run.source, settings.connectTimeoutSeconds());
      SourceAccess.Endpoint destination = access.destination(run.source, settings.connectTimeoutSeconds());
      SourceAccess.Credentials admin = source.credentials();
      SourceAccess.Credentials dest = destination.credentials();
      run.admin = source.settings();
      run.workerSource = new WorkerResources.Endpoint(spec.connection.host, run.admin.port(), spec.connection.database,
          admin.user(), run.admin.sslMode().libpq(), admin.password(), source.caCertificate());
      run.destinationSettings = destination.settings();
      run.destination = new WorkerResources.Endpoint(spec.destination.host,
          spec.destination.port == null ? 5432 : spec.destination.port, spec.destination.database, dest.user(),
          spec.destination.sslMode == null ? "prefer" : spec.destination.sslMode.libpq(), dest.password(),
          destination.caCertificate());
      run.conditions.setTrue(CREDENTIALS_RESOLVED, Reason.CREDENTIALS_RESOLVED.camelCase(),
          "credentials for user " + admin.user() + " and the destination are available");
      return true;
    } catch (SourceAccess.MissingSecret e) {
      run.conditions.setFalse(CREDENTIALS_RESOLVED, e.reason().camelCase(), e.getMessage());
      return false;
    }
  }

  /** The generated password lives only in this operator-owned Secret; it is created once and kept. */
  ManagedRole ensureManagedRoleSecret(SourceRun run) {
    String secretName = Names.child(run.name(), MANAGED_ROLE_SUFFIX);
    String roleName = run.managedRoleName;
    Secret existing = caches.get().secrets().get(run.namespace(), secretName).orElse(null);
    Optional<String> password = SecretData.value(existing, "password");
    if (existing == null || password.isEmpty() || !roleName.equals(SecretData.value(existing, "username").orElse(""))) {
      byte[] bytes = new byte[24];
      RANDOM.nextBytes(bytes);
      String generated = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
      Map<String, String> plain = new LinkedHashMap<>();
      plain.put("username", roleName);
      plain.put("password", generated);
      Secret desired = new SecretBuilder()
          .withNewMetadata().withName(secretName).withLabels(WorkerResources.labels(run.source)).endMetadata()
          .withType("Opaque").withData(SecretData.encode(plain)).build();
      owned.applySecret(run.source, desired, caches.get().secrets());
      password = Optional.of(generated);
      run.managedPasswordGenerated = true;
      run.notes.add(new SourceRun.Note(Reason.MANAGED_ROLE_CREATED,
          "generated a password for role " + roleName + " in Secret " + secretName));
    }
    run.status.managedRoleSecret = secretName;
    return new ManagedRole(roleName, password.get());
  }
}
