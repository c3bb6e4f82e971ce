package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** libpq sslmode values. */
public enum SslModeSpec {
  @JsonProperty("disable") DISABLE("disable"),
  @JsonProperty("allow") ALLOW("allow"),
  @JsonProperty("prefer") PREFER("prefer"),
  @JsonProperty("require") REQUIRE("require"),
  @JsonProperty("verify-ca") VERIFY_CA("verify-ca"),
  @JsonProperty("verify-full") VERIFY_FULL("verify-full");

  private final String libpq;

  SslModeSpec(String libpq) {
    this.libpq = libpq;
  }

  public String libpq() {
    return libpq;
  }

  public boolean verifiesServer() {
    return this == VERIFY_CA || this == VERIFY_FULL;
  }
}
