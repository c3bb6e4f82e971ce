package io.pgtrail.reconciler.sourcedatabase;

import static io.pgtrail.api.v1alpha1.status.ConditionType.CONNECTED;
import static io.pgtrail.api.v1alpha1.status.ConditionType.CREDENTIALS_RESOLVED;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgtrail.api.v1alpha1.SourceDatabase;
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
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A source's SSH jump host: the operator's key pair (an owned Secret, public key in status), which jump
 * host keys are trusted, the tunnel the operator's connections go through, and the worker's tunnel settings.
 */
final class SourceTunnel {
  /** Annotation whose new value makes the operator generate a new SSH key pair for the source. */
  static final String ROTATE_SSH_KEY = "pgtrail.io/rotate-ssh-key";

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
          run.notes.add(new SourceRun.Note(Reason.SSH_HOST_KEY_PINNED, "trusted the jump host key of "
              + spec.host + " on first use and pinned it: " + fingerprint));
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
    Secret existing = caches.get().secrets().get(run.namespace(), secretName).orElse(null);
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
    Secret keySecret = caches.get().secrets().get(namespace, Names.child(source.getMetadata().getName(), "ssh-key"))
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
  void release(SourceDatabase source) {
    tunnels.release(source.getMetadata().getUid());
  }


}
