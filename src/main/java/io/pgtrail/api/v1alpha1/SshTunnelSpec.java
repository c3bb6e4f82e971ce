package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/** An SSH jump host between the cluster and the database; the operator generates the key pair. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "has(self.knownHostsSecretRef) || has(self.hostKeyFingerprint)"
    + " || (has(self.hostKeyPolicy) && self.hostKeyPolicy == 'acceptNew')",
    message = "sshTunnel needs knownHostsSecretRef or hostKeyFingerprint to verify the jump host"
        + " (or hostKeyPolicy acceptNew to pin the first key it sees)")
public class SshTunnelSpec {
  @Required
  @Size(min = 1, max = 253)
  public String host;

  @Default("22")
  @Min(1)
  @Max(65535)
  public Integer port = 22;

  @Required
  @Size(min = 1)
  public String user;

  @JsonPropertyDescription("Secret key holding known_hosts lines for the jump host.")
  public SecretKeyRef knownHostsSecretRef;

  @io.fabric8.generator.annotation.Pattern("^SHA256:[A-Za-z0-9+/]{43}=?$")
  @JsonPropertyDescription("The jump host's key fingerprint as ssh-keygen -lf prints it (SHA256:...).")
  public String hostKeyFingerprint;

  @Default("strict")
  @JsonPropertyDescription("strict: the jump host key must match knownHostsSecretRef or hostKeyFingerprint;"
      + " acceptNew: with neither given, the first key seen is trusted and pinned in status.sshHostKeyFingerprint.")
  public SshHostKeyPolicySpec hostKeyPolicy = SshHostKeyPolicySpec.STRICT;
}
