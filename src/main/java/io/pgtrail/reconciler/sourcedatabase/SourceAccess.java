package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.api.v1alpha1.PostgresEndpointSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SecretKeyRef;
import io.pgtrail.api.v1alpha1.SecretKeysRef;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.SslMode;
import io.pgtrail.reconciler.support.Hashing;
import io.pgtrail.reconciler.support.SecretData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;

/**
 * Reads credentials and CA certificates from Secrets and turns an endpoint into connection settings.
 * Secrets come from the operator's informer caches when one holds them (owned Secrets, and referenced
 * Secrets labelled {@value #WATCH_LABEL}=true); an unlabelled referenced Secret is read with one GET,
 * so the operator never caches Secrets it has no use for. CA certificates go to one private temporary
 * directory, created on first use and removed when the operator stops.
 */
final class SourceAccess implements AutoCloseable {
  /** Label a user puts on a referenced Secret so that a change to it is acted on at once (not at the next resync). */
  static final String WATCH_LABEL = "pgtrail.io/watch";

  /** A cache lookup: empty when no informer holds the Secret. */
  interface SecretCache {
    Optional<Secret> get(String namespace, String name);
  }

  /** A Secret or key that is missing: the message says which, and how to fix it. */
  static final class MissingSecret extends Exception {
    final boolean keyMissing;

    MissingSecret(String message, boolean keyMissing) {
      super(message);
      this.keyMissing = keyMissing;
    }

    /** The CredentialsResolved reason: SecretKeyMissing or SecretNotFound. */
    Reason reason() {
      return keyMissing ? Reason.SECRET_KEY_MISSING : Reason.SECRET_NOT_FOUND;
    }
  }

  record Credentials(String user, String password) {
    @Override
    public String toString() {
      return "Credentials[user=" + user + "]";
    }
  }

  private final KubernetesClient client;
  private volatile SecretCache cache = (namespace, name) -> Optional.empty();
  private Path caDirectory;

  SourceAccess(KubernetesClient client) {
    this.client = client;
  }

  void useCache(SecretCache cache) {
    this.cache = cache;
  }

  Credentials credentials(String namespace, String field, SecretKeysRef ref) throws MissingSecret {
    Secret secret = secret(namespace, field, ref.name);
    String userKey = ref.usernameKey == null ? "username" : ref.usernameKey;
    String passwordKey = ref.passwordKey == null ? "password" : ref.passwordKey;
    String user = SecretData.value(secret, userKey).orElseThrow(() -> missingKey(namespace, field, ref.name, userKey));
    String password = SecretData.value(secret, passwordKey)
        .orElseThrow(() -> missingKey(namespace, field, ref.name, passwordKey));
    return new Credentials(user.trim(), password);
  }

  String caCertificate(String namespace, String field, SecretKeyRef ref) throws MissingSecret {
    if (ref == null) {
      return null;
    }
    Secret secret = secret(namespace, field, ref.name);
    return SecretData.value(secret, ref.key).orElseThrow(() -> missingKey(namespace, field, ref.name, ref.key));
  }

  private Secret secret(String namespace, String field, String name) throws MissingSecret {
    Secret secret = cache.get(namespace, name)
        .orElseGet(() -> client.secrets().inNamespace(namespace).withName(name).get());
    if (secret == null) {
      throw new MissingSecret("Secret " + namespace + "/" + name + " (" + field + ") does not exist: create it"
          + " (keys username and password, or the keys the reference names); pgtrail retries on its own", false);
    }
    return secret;
  }

  private static MissingSecret missingKey(String namespace, String field, String name, String key) {
    return new MissingSecret("Secret " + namespace + "/" + name + " (" + field + ") has no key '" + key
        + "': add it, or point the reference at the right key", true);
  }

  /** One endpoint as the operator reaches it: the user and CA read from the referenced Secrets, and the settings. */
  record Endpoint(Credentials credentials, String caCertificate, ConnectionSettings settings) {}

  /** The source as the operator reaches it directly (a tunnel may route it further). */
  Endpoint source(SourceDatabase source, int connectTimeoutSeconds) throws MissingSecret {
    return endpoint(source, "spec.connection", source.getSpec().connection, connectTimeoutSeconds);
  }

  /** The destination as the operator reaches it (it reads the worker's progress there). */
  Endpoint destination(SourceDatabase source, int connectTimeoutSeconds) throws MissingSecret {
    return endpoint(source, "spec.destination", source.getSpec().destination, connectTimeoutSeconds);
  }

  private Endpoint endpoint(SourceDatabase source, String field, PostgresEndpointSpec spec, int connectTimeoutSeconds)
      throws MissingSecret {
    String namespace = source.getMetadata().getNamespace();
    Credentials credentials = credentials(namespace, field + ".credentialsSecretRef", spec.credentialsSecretRef);
    String ca = caCertificate(namespace, field + ".caCertSecretRef", spec.caCertSecretRef);
    return new Endpoint(credentials, ca, settings(spec, credentials, ca, connectTimeoutSeconds));
  }

  /** Settings for the operator's own connection; a CA certificate goes to a private file pgjdbc can read. */
  ConnectionSettings settings(PostgresEndpointSpec endpoint, Credentials credentials, String caCertificate,
      int connectTimeoutSeconds) {
    ConnectionSettings.Builder b = ConnectionSettings.builder()
        .host(endpoint.host)
        .port(endpoint.port == null ? 5432 : endpoint.port)
        .database(endpoint.database)
        .user(credentials.user())
        .password(credentials.password())
        .sslMode(SslMode.fromLibpq(endpoint.sslMode == null ? "prefer" : endpoint.sslMode.libpq()))
        .connectTimeoutSeconds(connectTimeoutSeconds)
        .applicationName("pgtrail-operator");
    if (caCertificate != null) {
      b.sslRootCert(writeCa(caCertificate).toString());
    }
    return b.build();
  }

  private synchronized Path caDirectory() throws IOException {
    if (caDirectory == null) {
      caDirectory = Files.createTempDirectory("pgtrail-ca-",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    }
    return caDirectory;
  }

  /** Removes the CA directory (the operator stops). */
  @Override
  public synchronized void close() {
    if (caDirectory == null) {
      return;
    }
    try (var files = Files.walk(caDirectory)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort: the directory lives under the temporary directory
    }
    caDirectory = null;
  }

  private synchronized Path writeCa(String pem) {
    try {
      return writeCa(caDirectory(), pem);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the CA certificate file", e);
    }
  }

  private static Path writeCa(Path caDirectory, String pem) {
    Path file = caDirectory.resolve(Hashing.sha256(pem).substring(0, 32) + ".pem");
    try {
      if (!Files.exists(file)) {
        Path tmp = Files.createTempFile(caDirectory, "ca", ".tmp",
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, pem, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the CA certificate file", e);
    }
  }
}
