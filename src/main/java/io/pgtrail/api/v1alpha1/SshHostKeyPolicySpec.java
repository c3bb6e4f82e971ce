package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How the jump host's key is trusted: only when pinned, or pinned on first use. */
public enum SshHostKeyPolicySpec {
  @JsonProperty("strict") STRICT,
  @JsonProperty("acceptNew") ACCEPT_NEW
}
