package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CONNECTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.CREDENTIALS_RESOLVED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.PUBLICATION_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.REPLICATION_PERMITTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_HEALTHY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.SLOT_READY;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WAL_LEVEL_LOGICAL;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_AVAILABLE;
import static io.pgtrail.api.v1alpha1.status.ConditionType.WORKER_STREAMING;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.api.v1alpha1.CredentialsSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SshHostKeyPolicySpec;
import io.pgtrail.api.v1alpha1.SshTunnelSpec;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.WorkerSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.ManagedRole;
import io.pgtrail.postgres.plan.OwnerMarker;
import io.pgtrail.postgres.plan.Ownership;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupException;
import io.pgtrail.postgres.plan.SetupExecutor;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.preflight.CheckId;
import io.pgtrail.postgres.preflight.CheckResult;
import io.pgtrail.postgres.preflight.CheckStatus;
import io.pgtrail.postgres.preflight.Preflight;
import io.pgtrail.postgres.slots.FailoverSlots;
import io.pgtrail.postgres.slots.ReplicationSlots.SlotStatus;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.reconciler.support.Conditions;
import io.pgtrail.reconciler.support.Names;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.ReconcilerSettings;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.reconciler.trackingpolicy.PolicyScope;
import io.pgtrail.ssh.HostKeyPolicy;
import io.pgtrail.ssh.ServerHostKey;
import io.pgtrail.ssh.SshKeyPair;
import io.pgtrail.ssh.SshTunnel;
import io.pgtrail.ssh.SshTunnelException;
import io.pgtrail.ssh.SshTunnelSettings;
import io.pgtrail.ssh.SshTunnels;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The named steps of a SourceDatabase reconcile. Each owns its condition(s); a step that cannot proceed
 * returns false and the chain stops there, leaving later conditions Unknown.
 */
final class SourceSteps {
  /** Annotation whose new value makes the operator generate a new SSH key pair for the source. */
  static final String ROTATE_SSH_KEY = "pgtrail.io/rotate-ssh-key";

  static final int MAX_LISTED_TABLES = 500;
  static final String MANAGED_ROLE_SUFFIX = "managed-role";
  private static final SecureRandom RANDOM = new SecureRandom();
  /** Checks whose failure means "the database is not prepared": ReplicationPermitted reports them. */
  private static final Set<CheckId> RIGHTS_CHECKS = EnumSet.complementOf(
      EnumSet.of(CheckId.WAL_LEVEL, CheckId.EXISTING_SLOT, CheckId.EXISTING_PUBLICATION));

  private final ReconcilerSettings settings;
  private final SourceAccess access;
  private final OwnedResources owned;
  private final WorkerProgress progress;
  private final SshTunnels tunnels = new SshTunnels();
  private volatile OwnedCaches caches;

  SourceSteps(KubernetesClient client, ReconcilerSettings settings, SourceAccess access, OwnedResources owned) {
    this.settings = settings;
    this.access = access;
    this.owned = owned;
    this.caches = OwnedCaches.uncached(client);
    this.progress = new WorkerProgress(settings.clock(), settings.workerStallTimeout());
  }

  void useCaches(OwnedCaches caches) {
    this.caches = caches;
  }

  WorkerProgress progress() {
    return progress;
  }

  // ---- 1. validate -------------------------------------------------------------------------------

  /** Cross-field rules the CRD schema cannot express, and defaults. Touches no database. */
  boolean validate(SourceRun run) {
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
      waitForAll(run, Reason.INVALID_SPEC, "a valid spec");
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

  private static void waitForAll(SourceRun run, Reason reason, String what) {
    for (String type : SourceDatabaseReconciler.STEP_CONDITIONS) {
      if (!run.conditions.isSet(type)) {
        run.conditions.setUnknown(type, reason.camelCase(), "waiting for " + what);
      }
    }
  }

  // ---- 2. tracking policies ----------------------------------------------------------------------

  /** The union of all valid TrackingPolicies that point at this source (invalid ones report themselves). */
  void resolvePolicies(SourceRun run, Collection<TrackingPolicy> policies) {
    List<PolicyScope> scopes = new ArrayList<>();
    List<SourceDatabaseStatus.AppliedPolicy> applied = new ArrayList<>();
    for (TrackingPolicy policy : policies.stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        // the event source also maps a policy to sources that still reflect it (it may have moved away)
        .filter(p -> p.getSpec() != null && p.getSpec().sourceRef != null && run.name().equals(p.getSpec().sourceRef.name))
        .sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList()) {
      try {
        scopes.add(PolicyScope.parse(policy.getMetadata().getName(), policy.getSpec()));
        applied.add(new SourceDatabaseStatus.AppliedPolicy(policy.getMetadata().getName(),
            policy.getMetadata().getGeneration()));
      } catch (IllegalArgumentException invalid) {
        // the TrackingPolicy reconciler reports it as InvalidSpec on the policy itself
      }
    }
    run.tracking = TrackingUnion.of(scopes);
    run.status.appliedPolicies = applied;
  }

  // ---- 3. credentials ----------------------------------------------------------------------------

  boolean resolveCredentials(SourceRun run) {
    SourceDatabaseSpec spec = run.source.getSpec();
    try {
      SourceAccess.Credentials admin = access.credentials(run.namespace(), "spec.connection.credentialsSecretRef",
          spec.connection.credentialsSecretRef);
      String sourceCa = access.caCertificate(run.namespace(), "spec.connection.caCertSecretRef",
          spec.connection.caCertSecretRef);
      SourceAccess.Credentials dest = access.credentials(run.namespace(), "spec.destination.credentialsSecretRef",
          spec.destination.credentialsSecretRef);
      String destCa = access.caCertificate(run.namespace(), "spec.destination.caCertSecretRef",
          spec.destination.caCertSecretRef);
      run.admin = access.settings(spec.connection, admin, sourceCa, settings.connectTimeoutSeconds());
      run.workerSource = new WorkerResources.Endpoint(spec.connection.host, run.admin.port(), spec.connection.database,
          admin.user(), run.admin.sslMode().libpq(), admin.password(), sourceCa);
      run.destinationSettings = access.settings(spec.destination, dest, destCa, settings.connectTimeoutSeconds());
      run.destination = new WorkerResources.Endpoint(spec.destination.host,
          spec.destination.port == null ? 5432 : spec.destination.port, spec.destination.database, dest.user(),
          spec.destination.sslMode == null ? "prefer" : spec.destination.sslMode.libpq(), dest.password(), destCa);
      run.conditions.setTrue(CREDENTIALS_RESOLVED, Reason.CREDENTIALS_RESOLVED.camelCase(),
          "credentials for user " + admin.user() + " and the destination are available");
      return true;
    } catch (SourceAccess.MissingSecret e) {
      run.conditions.setFalse(CREDENTIALS_RESOLVED,
          (e.keyMissing ? Reason.SECRET_KEY_MISSING : Reason.SECRET_NOT_FOUND).camelCase(), e.getMessage());
      return false;
    }
  }

  // ---- 3b. SSH tunnel ------------------------------------------------------------------------------

  /**
   * With {@code spec.sshTunnel}: the operator's key pair (generated once into an owned Secret, public key
   * in status) and a tunnel the operator's connections go through.
   */
  boolean openTunnel(SourceRun run) {
    String uid = run.source.getMetadata().getUid();
    SshTunnelSpec spec = run.source.getSpec().sshTunnel;
    if (spec == null) {
      tunnels.release(uid);
      return true;
    }
    try {
      SshKeyPair key = ensureSshKey(run);
      run.status.sshPublicKey = key.publicKeyLine();
      String knownHosts = access.caCertificate(run.namespace(), "spec.sshTunnel.knownHostsSecretRef",
          spec.knownHostsSecretRef);
      boolean trustOnFirstUse = spec.hostKeyPolicy == SshHostKeyPolicySpec.ACCEPT_NEW && spec.hostKeyFingerprint == null
          && knownHosts == null;
      String pinned = trustOnFirstUse && run.source.getStatus() != null
          ? run.source.getStatus().sshHostKeyFingerprint : null;
      String fingerprint = spec.hostKeyFingerprint != null ? spec.hostKeyFingerprint : pinned;
      HostKeyPolicy policy = trustOnFirstUse && pinned == null ? HostKeyPolicy.ACCEPT_NEW : HostKeyPolicy.STRICT;
      SshTunnelSettings settings = new SshTunnelSettings(spec.host, spec.port == null ? 22 : spec.port, spec.user,
          key.privateKeyText(), knownHosts, fingerprint, policy);
      SshTunnel tunnel = tunnels.acquire(uid, settings, run.admin.host(), run.admin.port());
      if (trustOnFirstUse) {
        fingerprint = pinned != null ? pinned : tunnel.hostKey().map(ServerHostKey::fingerprint).orElse(null);
        run.status.sshHostKeyFingerprint = fingerprint;
        if (pinned == null && fingerprint != null) {
          run.notes.add(new String[] {Reason.SSH_HOST_KEY_PINNED.camelCase(), "trusted the jump host key of "
              + spec.host + " on first use and pinned it: " + fingerprint});
        }
      }
      run.workerTunnel = new WorkerResources.Tunnel(settings.host(), settings.port(), settings.user(),
          settings.privateKey(), knownHosts, fingerprint);
      run.admin = tunnel.route(run.admin);
      run.tunnel = tunnel.describe();
      return true;
    } catch (SourceAccess.MissingSecret e) {
      run.conditions.setFalse(CREDENTIALS_RESOLVED,
          (e.keyMissing ? Reason.SECRET_KEY_MISSING : Reason.SECRET_NOT_FOUND).camelCase(), e.getMessage());
      return false;
    } catch (SshTunnelException e) {
      run.conditions.setFalse(CONNECTED, e.reason().camelCase(), "SSH tunnel: " + e.getMessage());
      return false;
    }
  }

  /**
   * The operator's key pair for this source, generated once into an owned Secret. Setting the annotation
   * {@value #ROTATE_SSH_KEY} to a new value (e.g. a date) generates a new pair: the Secret records the value
   * it was generated for.
   */
  private SshKeyPair ensureSshKey(SourceRun run) {
    String secretName = Names.child(run.name(), "ssh-key");
    String comment = SshKeyPair.comment(run.namespace(), run.name());
    Secret existing = caches.secrets().get(run.namespace(), secretName).orElse(null);
    Optional<String> privateKey = SecretData.value(existing, "ssh-privatekey");
    String rotation = annotation(run.source.getMetadata().getAnnotations(), ROTATE_SSH_KEY);
    String generatedFor = existing == null ? null : annotation(existing.getMetadata().getAnnotations(), ROTATE_SSH_KEY);
    if (privateKey.isPresent() && java.util.Objects.equals(rotation, generatedFor)) {
      return SshKeyPair.parse(privateKey.get(), comment);
    }
    SshKeyPair generated = SshKeyPair.generate(comment);
    Map<String, String> plain = new LinkedHashMap<>();
    plain.put("ssh-privatekey", generated.privateKeyText());
    plain.put("ssh-publickey", generated.publicKeyLine());
    Map<String, String> annotations = rotation == null ? Map.of() : Map.of(ROTATE_SSH_KEY, rotation);
    owned.applySecret(run.source, new SecretBuilder()
        .withNewMetadata().withName(secretName).withLabels(WorkerResources.labels(run.source))
          .withAnnotations(annotations).endMetadata()
        .withType("kubernetes.io/ssh-auth").withData(SecretData.encode(plain)).build(), caches.secrets());
    Reason reason = privateKey.isPresent() ? Reason.SSH_KEY_ROTATED : Reason.SSH_KEY_GENERATED;
    run.notes.add(new String[] {reason.camelCase(), (privateKey.isPresent() ? "rotated" : "generated")
        + " the ed25519 key pair in Secret " + secretName + ": authorize this public key on "
        + run.source.getSpec().sshTunnel.host + " for user " + run.source.getSpec().sshTunnel.user + ": "
        + generated.publicKeyLine()});
    return generated;
  }

  private static String annotation(Map<String, String> annotations, String key) {
    return annotations == null ? null : annotations.get(key);
  }

  /**
   * Where cleanup reaches the database of a source being deleted: through its SSH tunnel when it has one
   * and a key was ever generated for it (deletion never generates a key), else directly.
   */
  ConnectionSettings routeForCleanup(SourceDatabase source, ConnectionSettings admin) throws Exception {
    SshTunnelSpec spec = source.getSpec().sshTunnel;
    if (spec == null) {
      return admin;
    }
    String namespace = source.getMetadata().getNamespace();
    Secret keySecret = caches.secrets().get(namespace, Names.child(source.getMetadata().getName(), "ssh-key"))
        .orElse(null);
    Optional<String> privateKey = SecretData.value(keySecret, "ssh-privatekey");
    if (privateKey.isEmpty()) {
      return admin;
    }
    String knownHosts = access.caCertificate(namespace, "spec.sshTunnel.knownHostsSecretRef", spec.knownHostsSecretRef);
    String pinned = source.getStatus() == null ? null : source.getStatus().sshHostKeyFingerprint;
    String fingerprint = spec.hostKeyFingerprint != null ? spec.hostKeyFingerprint : pinned;
    HostKeyPolicy policy = fingerprint == null && knownHosts == null && spec.hostKeyPolicy == SshHostKeyPolicySpec.ACCEPT_NEW
        ? HostKeyPolicy.ACCEPT_NEW : HostKeyPolicy.STRICT;
    SshTunnelSettings settings = new SshTunnelSettings(spec.host, spec.port == null ? 22 : spec.port, spec.user,
        privateKey.get(), knownHosts, fingerprint, policy);
    return tunnels.acquire(source.getMetadata().getUid(), settings, admin.host(), admin.port()).route(admin);
  }

  /** Forgets the tunnel of a deleted source. */
  void releaseTunnel(SourceDatabase source) {
    tunnels.release(source.getMetadata().getUid());
  }


  // ---- 4. connect and preflight ------------------------------------------------------------------

  boolean connect(SourceRun run) {
    try {
      run.connection = PgConnections.open(run.admin);
    } catch (PgConnectException e) {
      run.conditions.setFalse(CONNECTED, e.reason().camelCase(), e.getMessage());
      return false;
    }
    run.conditions.setTrue(CONNECTED, Reason.CONNECTED.camelCase(), "connected to " + run.admin.redacted()
        + (run.tunnel == null ? "" : " through " + run.tunnel));
    return true;
  }

  boolean preflight(SourceRun run) throws SQLException {
    run.preflight = Preflight.run(run.connection, run.admin, setupRequest(run, null));
    run.status.serverVersion = run.preflight.serverVersion();

    Optional<CheckResult> wal = run.preflight.check(CheckId.WAL_LEVEL);
    if (wal.isPresent() && wal.get().status() == CheckStatus.FAILED) {
      run.conditions.setFalse(WAL_LEVEL_LOGICAL, CheckId.WAL_LEVEL.reason(), describe(wal.get()));
    } else {
      run.conditions.setTrue(WAL_LEVEL_LOGICAL, Reason.WAL_LEVEL_LOGICAL.camelCase(), "wal_level is logical");
    }
    List<CheckResult> rightsFailed = run.preflight.failed().stream().filter(c -> RIGHTS_CHECKS.contains(c.id())).toList();
    if (!rightsFailed.isEmpty()) {
      run.conditions.setFalse(REPLICATION_PERMITTED, rightsFailed.get(0).id().reason(),
          rightsFailed.stream().map(SourceSteps::describe).collect(Collectors.joining(" | ")));
    } else {
      List<CheckResult> warnings = run.preflight.checks().stream()
          .filter(c -> c.status() == CheckStatus.WARNING).toList();
      run.conditions.setTrue(REPLICATION_PERMITTED, Reason.PREFLIGHT_PASSED.camelCase(), warnings.isEmpty()
          ? "the role may replicate and the server has room for a slot and a sender"
          : "preflight passed with warnings: " + warnings.stream().map(SourceSteps::describe)
              .collect(Collectors.joining(" | ")));
    }
    List<CheckResult> conflicts = run.preflight.failed().stream()
        .filter(c -> c.id() == CheckId.EXISTING_SLOT || c.id() == CheckId.EXISTING_PUBLICATION).toList();
    if (!conflicts.isEmpty()) {
      run.conditions.setFalse(PUBLICATION_READY, Reason.CONFLICT.camelCase(),
          conflicts.stream().map(SourceSteps::describe).collect(Collectors.joining(" | ")));
    }
    return run.preflight.failed().isEmpty();
  }

  static String describe(CheckResult check) {
    String observed = check.observed() == null || check.observed().isBlank() ? "" : check.observed();
    String fix = check.fixIt() == null || check.fixIt().isBlank() ? "" : check.fixIt();
    return observed.isEmpty() ? fix : fix.isEmpty() ? observed : observed + ". " + fix;
  }

  SetupRequest setupRequest(SourceRun run, ManagedRole role) {
    // a slot this source already reported in its status is its own, even if its publication was dropped by hand
    boolean slotInStatus = run.source.getStatus() != null && run.slot.equals(run.source.getStatus().slotName);
    return new SetupRequest(run.publication, run.slot, run.provider, run.tracking.scope(),
        run.tracking.trackNewTables(), run.tracking.contextTriggers(), run.source.getMetadata().getUid(), role,
        slotInStatus).withFailoverSlot(!Boolean.FALSE.equals(run.source.getSpec().failoverSlot));
  }

  // ---- 5. ownership, role, publication, slot -----------------------------------------------------

  /** Nothing is created while another owner's marker sits on the publication. */
  boolean checkOwnership(SourceRun run) throws SQLException {
    Optional<OwnerMarker> marker = Ownership.publicationMarker(run.connection, run.publication);
    String uid = run.source.getMetadata().getUid();
    if (marker.isPresent() && !uid.equals(marker.get().ownerId())) {
      run.conditions.setFalse(PUBLICATION_READY, Reason.CONFLICT.camelCase(), "publication " + run.publication
          + " in database " + run.admin.database() + " belongs to another SourceDatabase (owner "
          + marker.get().ownerId() + "): choose another publicationName and slotName");
      return false;
    }
    if (run.tracking.policies().isEmpty()) {
      run.conditions.setFalse(PUBLICATION_READY, Reason.NO_TRACKING_POLICY.camelCase(),
          "no TrackingPolicy points at this source: create one with spec.sourceRef.name: " + run.name());
      return false;
    }
    return true;
  }

  boolean ensurePublicationAndSlot(SourceRun run) throws SQLException {
    ManagedRole role = null;
    if (managedRole(run.source.getSpec())) {
      role = ensureManagedRoleSecret(run);
    }
    Optional<String> lostSlotPosition = reportedSlotNowMissing(run);
    try {
      run.setup = SetupExecutor.apply(run.connection, setupRequest(run, role));
    } catch (SetupException e) {
      run.conditions.setFalse(PUBLICATION_READY, e.reason(), e.getMessage());
      return false;
    }
    if (role != null && run.managedPasswordGenerated) {
      // a regenerated Secret (deleted by hand) must not leave the role with the old password
      SetupExecutor.setManagedRolePassword(run.connection, role);
    }
    if (role != null) {
      run.workerSource = new WorkerResources.Endpoint(run.workerSource.host(), run.workerSource.port(),
          run.workerSource.database(), role.name(), run.workerSource.sslMode(), role.password(),
          run.workerSource.caCertificate());
    }
    lostSlotPosition.ifPresent(position -> run.warnings.add(new String[] {Reason.SLOT_RECREATED.camelCase(),
        "replication slot " + run.slot + " (last confirmed at " + position + ") was missing, as after a failover to a"
            + " standby that does not synchronize slots, and was created again at the current position: changes in"
            + " between were not captured and the worker records that gap in the trail. To keep the slot across"
            + " failovers see docs/high-availability.md"}));
    List<String> tables = run.setup.trackedTables().stream().map(QualifiedName::toString).sorted().toList();
    run.status.trackedTableCount = tables.size();
    run.status.trackedTables = tables.size() > MAX_LISTED_TABLES ? tables.subList(0, MAX_LISTED_TABLES) : tables;
    run.status.publicationName = run.publication;
    run.status.slotName = run.slot;
    run.status.replicationUser = run.workerSource.user();
    String leftOut = String.join(" | ", run.setup.warnings());
    String message = "publication " + run.publication + " tracks " + tables.size() + " table(s)"
        + (leftOut.isEmpty() ? "" : "; not tracked or incomplete: " + leftOut);
    String before = run.source.getStatus() == null ? null : Conditions
        .find(run.source.getStatus().conditions, PUBLICATION_READY).map(c -> c.getMessage()).orElse(null);
    run.conditions.setTrue(PUBLICATION_READY, Reason.PUBLICATION_READY.camelCase(), message);
    if (!leftOut.isEmpty() && !message.equals(before)) {
      run.warnings.add(new String[] {Reason.TABLES_LEFT_OUT.camelCase(), leftOut});
    }
    if (!run.setup.executedSteps().isEmpty()) {
      noteSetupChanges(run);
    }
    return true;
  }

  /** The last confirmed position of a slot this source reported before and that is gone now. */
  private static Optional<String> reportedSlotNowMissing(SourceRun run) throws SQLException {
    SourceDatabaseStatus before = run.source.getStatus();
    if (before == null || before.slot == null || before.slot.confirmedFlushLsn == null
        || !run.slot.equals(before.slotName) || ReplicationSlots.read(run.connection, run.slot).isPresent()) {
      return Optional.empty();
    }
    return Optional.of(before.slot.confirmedFlushLsn);
  }

  private void noteSetupChanges(SourceRun run) {
    SourceDatabaseStatus before = run.source.getStatus();
    boolean wasReady = before != null
        && Conditions.isTrue(before.conditions, PUBLICATION_READY);
    boolean sameGeneration = before != null && run.source.getMetadata().getGeneration().equals(before.observedGeneration);
    boolean samePolicies = before != null && sameApplied(before.appliedPolicies, run.status.appliedPolicies);
    String steps = String.join("; ", run.setup.executedSteps());
    if (wasReady && sameGeneration && samePolicies) {
      run.notes.add(new String[] {Reason.DRIFT_REPAIRED.camelCase(), "put back what was changed by hand: " + steps});
    } else if (wasReady) {
      run.notes.add(new String[] {Reason.PUBLICATION_UPDATED.camelCase(), steps});
    }
  }

  private static boolean sameApplied(List<SourceDatabaseStatus.AppliedPolicy> a, List<SourceDatabaseStatus.AppliedPolicy> b) {
    if (a == null || b == null || a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!a.get(i).name.equals(b.get(i).name) || !java.util.Objects.equals(a.get(i).generation, b.get(i).generation)) {
        return false;
      }
    }
    return true;
  }

  /** The generated password lives only in this operator-owned Secret; it is created once and kept. */
  private ManagedRole ensureManagedRoleSecret(SourceRun run) {
    String secretName = Names.child(run.name(), MANAGED_ROLE_SUFFIX);
    String roleName = run.source.getSpec().credentials.roleName != null
        ? run.source.getSpec().credentials.roleName : run.slot;
    Secret existing = caches.secrets().get(run.namespace(), secretName).orElse(null);
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
      owned.applySecret(run.source, desired, caches.secrets());
      password = Optional.of(generated);
      run.managedPasswordGenerated = true;
      run.notes.add(new String[] {Reason.MANAGED_ROLE_CREATED.camelCase(),
          "generated a password for role " + roleName + " in Secret " + secretName});
    }
    run.status.managedRoleSecret = secretName;
    return new ManagedRole(roleName, password.get());
  }

  /**
   * Observe first: the slot's facts and SlotHealthy, read whenever a connection exists, whatever the
   * setup steps after it say (a failing preflight is exactly when retained WAL piles up). Never stops the chain.
   */
  void observeSlot(SourceRun run) {
    Optional<SlotStatus> slot;
    try {
      slot = ReplicationSlots.read(run.connection, run.slot);
    } catch (SQLException e) {
      run.conditions.setUnknown(SLOT_HEALTHY, Reason.SETUP_FAILED.camelCase(), "cannot read pg_replication_slots: "
          + e.getMessage() + " (SQLSTATE " + e.getSQLState() + ")");
      return;
    }
    run.observedSlot = slot.orElse(null);
    if (slot.isEmpty()) {
      run.status.slot = null;
      run.conditions.setUnknown(SLOT_HEALTHY, Reason.SLOT_MISSING.camelCase(), "replication slot " + run.slot
          + " does not exist (yet)");
      return;
    }
    SlotStatus s = slot.get();
    SourceDatabaseStatus.SlotFacts facts = new SourceDatabaseStatus.SlotFacts();
    facts.active = s.active();
    facts.retainedWalBytes = s.retainedWalBytes();
    facts.retainedWal = humanBytes(s.retainedWalBytes());
    facts.walStatus = s.walStatus();
    facts.safeWalSize = s.safeWalSize();
    facts.confirmedFlushLsn = s.confirmedFlushLsn();
    observeFailover(run, facts);
    run.status.slot = facts;
    Quantity limit = run.source.getSpec().maxRetainedWal;
    String worker = "check that the worker is running and keeping up (kubectl logs deploy/"
        + WorkerResources.deploymentName(run.source) + ")";
    if (facts.invalidationReason != null && !"wal_removed".equals(facts.invalidationReason)) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.SLOT_INVALIDATED.camelCase(), "PostgreSQL invalidated slot "
          + run.slot + " (" + facts.invalidationReason + "): changes after its last position cannot be read;"
          + " the worker records a gap and stops. Recreate the SourceDatabase to start a new slot"
          + ("idle_timeout".equals(facts.invalidationReason)
              ? ", and raise idle_replication_slot_timeout (or set it to 0) so a stopped worker keeps its slot" : ""));
    } else if ("lost".equals(s.walStatus())) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.SLOT_LOST.camelCase(), "the server removed WAL the slot still"
          + " needed (wal_status lost): changes were missed; recreate the SourceDatabase to start a new slot");
    } else if (limit != null && s.retainedWalBytes() > Quantity.getAmountInBytes(limit).longValue()) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.RETAINED_WAL_TOO_LARGE.camelCase(), "slot " + run.slot
          + " retains " + humanBytes(s.retainedWalBytes()) + " of WAL, above spec.maxRetainedWal " + limit
          + ": " + worker);
    } else if ("unreserved".equals(s.walStatus())) {
      run.conditions.setFalse(SLOT_HEALTHY, Reason.SLOT_AT_RISK.camelCase(), "slot " + run.slot + " retains "
          + humanBytes(s.retainedWalBytes()) + " of WAL, beyond max_wal_size (wal_status unreserved"
          + (s.safeWalSize() == null ? "" : ", " + humanBytes(Math.max(0, s.safeWalSize()))
          + " left before max_slot_wal_keep_size removes it") + "): " + worker);
    } else {
      run.conditions.setTrue(SLOT_HEALTHY, Reason.SLOT_HEALTHY.camelCase(), "retained WAL "
          + humanBytes(s.retainedWalBytes()) + (limit == null ? "" : " (limit " + limit + ")")
          + (s.walStatus() == null ? "" : ", wal_status " + s.walStatus()) + (s.active() ? ", streaming" : ""));
    }
  }

  /** After setup: the slot exists (SlotReady), and SlotHealthy reflects the slot setup may just have created. */
  boolean confirmSlot(SourceRun run) {
    if (run.observedSlot == null || run.setup != null && !run.setup.executedSteps().isEmpty()) {
      observeSlot(run);
    }
    if (run.observedSlot == null) {
      run.conditions.setFalse(SLOT_READY, Reason.SLOT_MISSING.camelCase(), "replication slot " + run.slot
          + " does not exist although setup ran: it may have been dropped concurrently; pgtrail recreates it");
      return false;
    }
    run.conditions.setTrue(SLOT_READY, Reason.SLOT_READY.camelCase(), "logical slot " + run.slot + " (pgoutput) exists"
        + (run.observedSlot.active() ? " and is streaming" : ""));
    return true;
  }

  /** Failover flags and readiness (PostgreSQL 17+), and whether PostgreSQL invalidated the slot. */
  private static void observeFailover(SourceRun run, SourceDatabaseStatus.SlotFacts facts) {
    try {
      int major = run.connection.getMetaData().getDatabaseMajorVersion();
      Optional<FailoverSlots.SlotFlags> flags = FailoverSlots.flags(run.connection, run.slot);
      facts.invalidationReason = FailoverSlots.invalidation(run.connection, run.slot).orElse(null);
      facts.failover = flags.map(FailoverSlots.SlotFlags::failover).orElse(null);
      FailoverSlots.Readiness readiness = FailoverSlots.assess(major,
          !Boolean.FALSE.equals(run.source.getSpec().failoverSlot), run.slot, flags,
          FailoverSlots.standbys(run.connection));
      facts.failoverReady = readiness.ready();
      facts.failoverMessage = readiness.fixIt().isEmpty() ? readiness.observed()
          : readiness.observed() + ". " + readiness.fixIt();
    } catch (SQLException e) {
      facts.failoverMessage = "cannot read the slot's failover facts: " + e.getMessage() + " (SQLSTATE "
          + e.getSQLState() + ")";
    }
  }

  static String humanBytes(long bytes) {
    String[] units = {"", "Ki", "Mi", "Gi", "Ti"};
    double value = bytes;
    int unit = 0;
    while (value >= 1024 && unit < units.length - 1) {
      value /= 1024;
      unit++;
    }
    return unit == 0 ? bytes + "B" : String.format(java.util.Locale.ROOT, "%.1f%s", value, units[unit]);
  }

  // ---- 6. worker ----------------------------------------------------------------------------------

  boolean ensureWorker(SourceRun run) {
    SourceDatabaseSpec spec = run.source.getSpec();
    WorkerSpec worker = spec.worker == null ? new WorkerSpec() : spec.worker;
    String image = worker.image != null ? worker.image : settings.workerImage();
    int port = worker.metricsPort != null ? worker.metricsPort : WorkerResources.DEFAULT_METRICS_PORT;
    WorkerResources.Inputs inputs = new WorkerResources.Inputs(image, worker.imagePullPolicy, worker.resources,
        port, run.workerSource, run.destination, run.slot, run.publication, run.tracking.ignoreColumns(),
        WorkerResources.Behaviour.of(worker), run.workerTunnel, WorkerResources.podSettings(settings.workerPodDefaults(), worker), settings.workerLogFormat(),
        WorkerResources.Store.from(spec.destination));
    String yaml = WorkerResources.workerYaml(inputs);
    var configMap = owned.apply(run.source, WorkerResources.configMap(run.source, inputs), caches.configMaps());
    var secret = owned.applySecret(run.source, WorkerResources.secret(run.source, inputs), caches.secrets());
    String configHash = WorkerResources.configHash(yaml, secret.stored());
    // the pod template as it was made before the worker Secret changed: drift is told apart from that roll
    String deployedHash = caches.deployments().get(run.namespace(), WorkerResources.deploymentName(run.source))
        .map(d -> d.getSpec().getTemplate().getMetadata().getAnnotations())
        .map(a -> a.get(WorkerResources.CONFIG_HASH)).orElse(null);
    var deployment = owned.apply(run.source, WorkerResources.deployment(run.source, inputs, configHash),
        caches.deployments(), deployedHash == null || deployedHash.equals(configHash) ? null
            : WorkerResources.deployment(run.source, inputs, deployedHash));
    String name = deployment.stored().getMetadata().getName();
    List<String> repaired = new ArrayList<>();
    for (var applied : List.of(configMap, secret, deployment)) {
      if (applied.outcome() == OwnedResources.Outcome.REPAIRED) {
        repaired.add(applied.stored().getKind() + " " + applied.stored().getMetadata().getName() + " ("
            + String.join(", ", applied.drifted()) + ")");
      }
    }
    if (!repaired.isEmpty()) {
      run.notes.add(new String[] {Reason.DRIFT_REPAIRED.camelCase(), "restored what was changed by hand: "
          + String.join("; ", repaired)});
    }
    if (deployment.outcome() == OwnedResources.Outcome.UPDATED
        || deployment.outcome() == OwnedResources.Outcome.REPAIRED && deployedHash != null
            && !deployedHash.equals(configHash)) {
      run.notes.add(new String[] {Reason.WORKER_UPDATED.camelCase(),
          "worker " + name + " rolls to a new configuration or credentials"});
    }
    run.status.workerDeployment = name;
    if (!repaired.isEmpty()) {
      run.conditions.setFalse(WORKER_AVAILABLE, Reason.WORKER_STARTING.camelCase(), "restored " + String.join("; ",
          repaired) + ": waiting for Deployment " + name + " to run the restored configuration");
      return false;
    }
    Deployment current = deployment.stored();
    boolean available = !configMap.changed() && !secret.changed() && !deployment.changed()
        && current.getStatus() != null
        && current.getSpec().getReplicas() != null && current.getSpec().getReplicas() >= 1
        && current.getStatus().getAvailableReplicas() != null && current.getStatus().getAvailableReplicas() >= 1
        && current.getStatus().getObservedGeneration() != null
        && current.getStatus().getObservedGeneration() >= current.getMetadata().getGeneration()
        && (current.getStatus().getUpdatedReplicas() == null || current.getStatus().getUpdatedReplicas() >= 1);
    if (available) {
      run.conditions.setTrue(WORKER_AVAILABLE, Reason.WORKER_AVAILABLE.camelCase(),
          "worker " + name + " is available");
      return true;
    }
    run.conditions.setFalse(WORKER_AVAILABLE, Reason.WORKER_STARTING.camelCase(), "waiting for Deployment "
        + name + " to have an available pod (kubectl describe deploy/" + name + " shows why it is not)");
    return false;
  }

  /** WorkerStreaming, from the worker's progress report and the slot's movement (see {@link WorkerProgress}). */
  void observeWorker(SourceRun run) {
    progress.observe(run);
  }

  // ---- 7. summary --------------------------------------------------------------------------------

  void summarize(SourceRun run) {
    for (String type : SourceDatabaseReconciler.STEP_CONDITIONS) {
      if (!run.conditions.isSet(type)) {
        String blocker = run.conditions.firstNotTrue(SourceDatabaseReconciler.STEP_CONDITIONS)
            .map(c -> c.getType()).orElse("an earlier step");
        run.conditions.setUnknown(type, Reason.WAITING.camelCase(), "waiting for " + blocker);
      }
    }
    if (!run.conditions.isSet(WORKER_STREAMING)) {
      run.conditions.setUnknown(WORKER_STREAMING, Reason.WAITING.camelCase(), "waiting for a connection to the source");
    }
    if (run.conditions.isSet(READY)) {
      return; // validation already decided
    }
    var blocker = run.conditions.firstNotTrue(SourceDatabaseReconciler.STEP_CONDITIONS);
    var streaming = run.conditions.get(WORKER_STREAMING).filter(c -> "False".equals(c.getStatus()));
    if (blocker.isEmpty() && streaming.isPresent()) {
      // the pipeline is set up but the trail does not move: not Ready (Unknown, no report yet, does not block)
      run.conditions.setFalse(READY, streaming.get().getReason(), WORKER_STREAMING + ": " + streaming.get().getMessage());
    } else if (blocker.isEmpty()) {
      run.conditions.setTrue(READY, Reason.READY.camelCase(), "tracking " + run.status.trackedTableCount
          + " table(s) through slot " + run.slot + "; worker available");
    } else {
      run.conditions.setFalse(READY, blocker.get().getReason(), blocker.get().getType() + ": " + blocker.get().getMessage());
    }
  }
}
