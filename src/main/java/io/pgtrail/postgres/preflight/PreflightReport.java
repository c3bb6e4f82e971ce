package io.pgtrail.postgres.preflight;

import java.util.List;
import java.util.Optional;

/** The result of {@link Preflight#run}: every check in order, plus the server version. */
public record PreflightReport(String serverVersion, int serverVersionNum, List<CheckResult> checks) {
  public PreflightReport {
    checks = List.copyOf(checks);
  }

  /** Ready for change data capture: no check failed (warnings allowed). */
  public boolean ready() {
    return failed().isEmpty();
  }

  public List<CheckResult> failed() {
    return checks.stream().filter(c -> c.status() == CheckStatus.FAILED).toList();
  }

  public List<CheckResult> warnings() {
    return checks.stream().filter(c -> c.status() == CheckStatus.WARNING).toList();
  }

  public Optional<CheckResult> check(CheckId id) {
    return checks.stream().filter(c -> c.id() == id).findFirst();
  }
}
