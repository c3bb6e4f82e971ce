package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;

/** Which role streams the changes. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CredentialsSpec {
  public enum Mode {
    @JsonProperty("provided") PROVIDED,
    @JsonProperty("managedRole") MANAGED_ROLE
  }

  @Default("provided")
  @JsonPropertyDescription("provided: the worker uses the connection's user; managedRole: the operator creates a"
      + " least-privilege replication role and keeps its generated password in an operator-owned Secret.")
  public Mode mode = Mode.PROVIDED;

  @Pattern(SourceDatabaseSpec.NAME_PATTERN)
  @JsonPropertyDescription("Name of the managed role (default: the slot name). Only with mode managedRole.")
  public String roleName;
}
