package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CONNECTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.CREDENTIALS_RESOLVED;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SshHostKeyPolicySpec;
import io.pgtrail.api.v1alpha1.SshTunnelSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.reconciler.support.Names;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.ssh.HostKeyPolicy;
import io.pgtrail.ssh.ServerHostKey;
import io.pgtrail.ssh.SshKeyPair;
import io.pgtrail.ssh.SshTunnel;
import io.pgtrail.ssh.SshTunnelException;
import io.pgtrail.ssh.SshTunnelSettings;
import io.pgtrail.ssh.SshTunnels;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A source's SSH jump host: the operator's key pair (an owned Secret, public key in status), which jump
 * host keys are trusted, the tunnel the operator's connections go through, and the worker's tunnel settings.
 */
final class SourceTunnel {
  /**
   * Which jump host keys are trusted: the one place the host-key policy is decided, for the operator's
   * tunnel, the tunnel of a deletion's cleanup and (through {@link #workerTunnel}) the worker's.
   *
   * @param fingerprint the fingerprint a key must have (spec.sshTunnel.hostKeyFingerprint, else the one pinned
   *     on first use), or null
   * @param policy acceptNew only while trust on first use has pinned nothing yet, else strict
   * @param trustOnFirstUse hostKeyPolicy acceptNew with neither a fingerprint nor known_hosts: the first key
   *     seen is pinned in status.sshHostKeyFingerprint
   * @param pinned the key pinned on first use by an earlier run, or null
   */
  record JumpHostTrust(String fingerprint, HostKeyPolicy policy, boolean trustOnFirstUse, String pinned) {
    static JumpHostTrust of(SshTunnelSpec spec, String knownHosts, SourceDatabaseStatus status) {
      boolean trustOnFirstUse = spec.hostKeyPolicy == SshHostKeyPolicySpec.ACCEPT_NEW
          && spec.hostKeyFingerprint == null && knownHosts == null;
      String pinned = trustOnFirstUse && status != null ? status.sshHostKeyFingerprint : null;
      String fingerprint = spec.hostKeyFingerprint != null ? spec.hostKeyFingerprint : pinned;
      HostKeyPolicy policy = trustOnFirstUse && pinned == null ? HostKeyPolicy.ACCEPT_NEW : HostKeyPolicy.STRICT;
      return new JumpHostTrust(fingerprint, policy, trustOnFirstUse, pinned);
    }
  }

  /** Annotation whose new value makes the operator generate a new SSH key pair for the source. */
  static final String ROTATE_SSH_KEY = "pgtrail.io/rotate-ssh-key";
  static final String KEY_SECRET_SUFFIX = "ssh-key";

  private final SourceAccess access;
  private final OwnedResources owned;
  private final Supplier<OwnedCaches> caches;
  private final SshTunnels tunnels = new SshTunnels();

  SourceTunnel(SourceAccess access, OwnedResources owned, Supplier<OwnedCaches> caches) {
    this.access = access;
    this.owned = owned;
    this.caches = caches;
  }

  /**
   * With {@code spec.sshTunnel}: the operator's key pair (generated once into an owned Secret, public key
   * in status) and a tunnel the operator's connections go through.
   */
  boolean open(SourceRun run) {
    String uid = run.source.getMetadata().getUid();
    SshTunnelSpec spec = run.source.getSpec().sshTunnel;
    if (spec == null) {
      tunnels.release(uid);
      return true;
    }
    try {
      SshKeyPair key = ensureSshKey(run);
      run.status.sshPublicKey = key.publicKeyLine();
      String knownHosts = knownHosts(run.source);
      JumpHostTrust trust = JumpHostTrust.of(spec, knownHosts, run.source.getStatus());
      SshTunnelSettings settings = settings(spec, key.privateKeyText(), knownHosts, trust);
      SshTunnel tunnel = tunnels.acquire(uid, settings, run.admin.host(), run.admin.port());
      String fingerprint = trust.fingerprint();
      if (trust.trustOnFirstUse()) {
        fingerprint = trust.pinned() != null ? trust.pinned()
            : tunnel.hostKey().map(ServerHostKey::fingerprint).orElse(null);
        run.status.sshHostKeyFingerprint = fingerprint;
        if (trust.pinned() == null && fingerprint != null) {
          run.notes.add(new SourceRun.Note(Reason.SSH_HOST_KEY_PINNED, "trusted the jump host key of "
              + spec.host + " on first use and pinned it: " + fingerprint));
        }
      }
      run.workerTunnel = workerTunnel(settings, knownHosts, fingerprint);
      run.admin = tunnel.route(run.admin);
      run.tunnel = tunnel.describe();
      return true;
    } catch (SourceAccess.MissingSecret e) {
      run.conditions.setFalse(CREDENTIALS_RESOLVED, e.reason().camelCase(), e.getMessage());
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
    String secretName = Names.child(run.name(), KEY_SECRET_SUFFIX);
    String comment = SshKeyPair.comment(run.namespace(), run.name());
    Secret existing = caches.get().secrets().get(run.namespace(), secretName).orElse(null);
    Optional<String> privateKey = SecretData.value(existing, "ssh-privatekey");
    String rotation = annotation(run.source.getMetadata().getAnnotations(), ROTATE_SSH_KEY);
    String generatedFor = existing == null ? null : annotation(existing.getMetadata().getAnnotations(), ROTATE_SSH_KEY);
    if (privateKey.isPresent() && Objects.equals(rotation, generatedFor)) {
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
        .withType("kubernetes.io/ssh-auth").withData(SecretData.encode(plain)).build(), caches.get().secrets());
    Reason reason = privateKey.isPresent() ? Reason.SSH_KEY_ROTATED : Reason.SSH_KEY_GENERATED;
    run.notes.add(new SourceRun.Note(reason, (privateKey.isPresent() ? "rotated" : "generated")
        + " the ed25519 key pair in Secret " + secretName + ": authorize this public key on "
        + run.source.getSpec().sshTunnel.host + " for user " + run.source.getSpec().sshTunnel.user + ": "
        + generated.publicKeyLine()));
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
    String keySecretName = Names.child(source.getMetadata().getName(), KEY_SECRET_SUFFIX);
    Secret keySecret = caches.get().secrets().get(namespace, keySecretName).orElse(null);
    Optional<String> privateKey = SecretData.value(keySecret, "ssh-privatekey");
    if (privateKey.isEmpty()) {
      return admin;
    }
    String knownHosts = knownHosts(source);
    SshTunnelSettings settings = settings(spec, privateKey.get(), knownHosts,
        JumpHostTrust.of(spec, knownHosts, source.getStatus()));
    return tunnels.acquire(source.getMetadata().getUid(), settings, admin.host(), admin.port()).route(admin);
  }

  private String knownHosts(SourceDatabase source) throws SourceAccess.MissingSecret {
    return access.caCertificate(source.getMetadata().getNamespace(), "spec.sshTunnel.knownHostsSecretRef",
        source.getSpec().sshTunnel.knownHostsSecretRef);
  }

  static SshTunnelSettings settings(SshTunnelSpec spec, String privateKey, String knownHosts, JumpHostTrust trust) {
    return new SshTunnelSettings(spec.host, spec.port == null ? SshTunnelSettings.DEFAULT_PORT : spec.port, spec.user,
        privateKey, knownHosts, trust.fingerprint(), trust.policy());
  }

  /** The worker trusts what the operator trusted: the same known_hosts, and the fingerprint pinned or given. */
  static WorkerResources.Tunnel workerTunnel(SshTunnelSettings operator, String knownHosts, String fingerprint) {
    return new WorkerResources.Tunnel(operator.host(), operator.port(), operator.user(), operator.privateKey(),
        knownHosts, fingerprint);
  }

  /** Forgets the tunnel of a deleted source. */
  void release(SourceDatabase source) {
    tunnels.release(source.getMetadata().getUid());
  }

  /** Closes every tunnel (the shared SSH client stops with the last): the operator is stopping. */
  void closeAll() {
    tunnels.close();
  }
}
