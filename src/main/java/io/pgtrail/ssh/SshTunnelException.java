package io.pgtrail.ssh;

/**
 * An SSH tunnel that could not be (re)established, classified so callers can set a condition
 * reason. Messages name the jump host, user, ports and key fingerprints at most: never key material.
 */
public final class SshTunnelException extends Exception {
  public enum Reason {
    /** The jump host key is unknown, changed or revoked (see {@link HostKeyTrust}). */
    HOST_KEY_MISMATCH("HostKeyMismatch"),
    /** The jump host refused our public key (not in {@code authorized_keys}, wrong user). */
    AUTH_FAILED("SshAuthFailed"),
    /** The jump host cannot be resolved, refuses TCP connections or does not answer in time. */
    UNREACHABLE("SshUnreachable"),
    /** The session is up but the jump host refused to forward to the database or could not reach it. */
    FORWARDING_FAILED("SshForwardingFailed"),
    /** Anything else (protocol errors, no common algorithms, ...). */
    OTHER("SshFailed");

    private final String camelCase;

    Reason(String camelCase) {
      this.camelCase = camelCase;
    }

    /** The CamelCase word used as a Kubernetes condition reason. */
    public String camelCase() {
      return camelCase;
    }
  }

  private final Reason reason;

  public SshTunnelException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public SshTunnelException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
