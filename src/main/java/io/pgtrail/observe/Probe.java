package io.pgtrail.observe;

/** One answer of {@code /healthz} or {@code /readyz}: 200 when {@code ok}, else 503, with a one-line message. */
public record Probe(boolean ok, String message) {
  public static Probe ok(String message) {
    return new Probe(true, message);
  }

  public static Probe failing(String message) {
    return new Probe(false, message);
  }
}
