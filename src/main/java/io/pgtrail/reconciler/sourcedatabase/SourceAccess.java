package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.api.v1alpha1.PostgresEndpoint;
import io.pgtrail.api.v1alpha1.SecretKeyRef;
import io.pgtrail.api.v1alpha1.SecretKeysRef;
import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.SslMode;
import io.pgtrail.reconciler.support.Hashing;
import io.pgtrail.reconciler.support.SecretData;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Reads credentials and CA certificates from Secrets and turns an endpoint into connection settings. */
final class SourceAccess {
  /** A Secret or key that is missing: the message says which, and how to fix it. */
  static final class MissingSecret extends Exception {
    final boolean keyMissing;

    MissingSecret(String message, boolean keyMissing) {
      super(message);
      this.keyMissing = keyMissing;
    }
  }

  record Credentials(String user, String password) {
    @Override
    public String toString() {
      return "Credentials[user=" + user + "]";
    }
  }

  private final KubernetesClient client;
  private final Path caDirectory;

  SourceAccess(KubernetesClient client) {
    this.client = client;
    try {
      this.caDirectory = Files.createTempDirectory("pgtrail-ca-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a directory for CA certificates", e);
    }
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
    Secret secret = client.secrets().inNamespace(namespace).withName(name).get();
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

  /** Settings for the operator's own connection; a CA certificate goes to a private file pgjdbc can read. */
  ConnectionSettings settings(PostgresEndpoint endpoint, Credentials credentials, String caCertificate,
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

  private Path writeCa(String pem) {
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
