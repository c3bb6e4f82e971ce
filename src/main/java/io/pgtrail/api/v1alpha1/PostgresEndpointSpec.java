package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** A PostgreSQL database reached over TCP with credentials from a Secret. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(self.sslMode) || !(self.sslMode in ['verify-ca', 'verify-full']) || has(self.caCertSecretRef)",
    message = "sslMode verify-ca and verify-full need caCertSecretRef")
public class PostgresEndpointSpec {
  @Required
  @Size(min = 1, max = 253)
  @JsonPropertyDescription("Host name or IP address (for Supabase/Neon: the direct host, not the pooler).")
  public String host;

  @Default("5432")
  @Min(1)
  @Max(65535)
  public Integer port = 5432;

  @Required
  @Size(min = 1, max = 63)
  public String database;

  @Default("prefer")
  @JsonPropertyDescription("libpq sslmode; verify-ca and verify-full need caCertSecretRef.")
  public SslModeSpec sslMode = SslModeSpec.PREFER;

  @Required
  @JsonPropertyDescription("Secret with the user name and password (keys default to username and password).")
  public SecretKeysRef credentialsSecretRef;

  @JsonPropertyDescription("Secret holding the CA certificate (PEM) that signed the server certificate.")
  public SecretKeyRef caCertSecretRef;
}
