package io.pgtrail.ssh;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** What to do with a jump host key that no configured known_hosts line or fingerprint covers. */
public enum HostKeyPolicy {
  /** Refuse it (the default): the jump host must be pinned by known_hosts lines or a fingerprint. */
  STRICT("strict"),
  /**
   * Trust on first use, like OpenSSH's {@code StrictHostKeyChecking=accept-new}: accept a host that
   * has no trusted key configured and report its key so the caller can pin it. A host that does
   * have trusted keys must still match one of them, and a tunnel keeps the first key it accepted.
   */
  ACCEPT_NEW("acceptNew");

  private final String camelCase;

  HostKeyPolicy(String camelCase) {
    this.camelCase = camelCase;
  }

  /** The spelling used in YAML, CLI flags and custom resources: {@code strict} or {@code acceptNew}. */
  @JsonValue
  public String camelCase() {
    return camelCase;
  }

  /** Accepts {@code strict}, {@code acceptNew} and {@code accept-new} (any case); null means strict. */
  @JsonCreator
  public static HostKeyPolicy parse(String value) {
    if (value == null || value.isBlank()) {
      return STRICT;
    }
    String normalized = value.strip().replace("-", "").replace("_", "").toLowerCase(Locale.ROOT);
    for (HostKeyPolicy policy : values()) {
      if (policy.camelCase.toLowerCase(Locale.ROOT).equals(normalized)) {
        return policy;
      }
    }
    throw new IllegalArgumentException("unknown SSH host key policy '" + value + "' (expected strict or acceptNew)");
  }

  @Override
  public String toString() {
    return camelCase;
  }
}
