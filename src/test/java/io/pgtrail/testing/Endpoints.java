package io.pgtrail.testing;

import io.pgtrail.api.v1alpha1.PostgresEndpointSpec;
import io.pgtrail.api.v1alpha1.SecretKeysRef;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.postgres.connect.ConnectionSettings;

/** CR endpoints (source connection, destination) pointing at a test database, credentials from a Secret. */
public final class Endpoints {
  private Endpoints() {}

  /** Fills {@code endpoint} with the database's host, port and name, no TLS, and the Secret's name. */
  public static <E extends PostgresEndpointSpec> E of(E endpoint, ConnectionSettings db, String secret) {
    endpoint.host = db.host();
    endpoint.port = db.port();
    endpoint.database = db.database();
    endpoint.sslMode = SslModeSpec.DISABLE;
    endpoint.credentialsSecretRef = new SecretKeysRef(secret);
    return endpoint;
  }
}
