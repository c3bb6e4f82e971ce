package io.pgtrail.postgres.connect;

import java.util.Arrays;
import java.util.stream.Collectors;

/** libpq's sslmode values; pgjdbc understands the same words. */
public enum SslMode {
  DISABLE("disable"),
  ALLOW("allow"),
  PREFER("prefer"),
  REQUIRE("require"),
  VERIFY_CA("verify-ca"),
  VERIFY_FULL("verify-full");

  private final String libpq;

  SslMode(String libpq) {
    this.libpq = libpq;
  }

  public String libpq() {
    return libpq;
  }

  public boolean verifiesServer() {
    return this == VERIFY_CA || this == VERIFY_FULL;
  }

  private static String normalize(String s) {
    return s.replace("-", "").replace("_", "").toLowerCase(java.util.Locale.ROOT);
  }

  /** Accepts libpq spelling ({@code verify-full}), enum names and camelCase ({@code verifyFull}). */
  public static SslMode fromLibpq(String value) {
    for (SslMode mode : values()) {
      if (value != null && normalize(mode.libpq).equals(normalize(value))) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown sslmode '" + value + "' (expected one of "
        + Arrays.stream(values()).map(SslMode::libpq).collect(Collectors.joining(", ")) + ")");
  }
}
