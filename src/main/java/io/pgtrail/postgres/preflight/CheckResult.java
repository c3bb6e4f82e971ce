package io.pgtrail.postgres.preflight;

/** One preflight check: what was observed and, unless it passed, how to fix it. */
public record CheckResult(CheckId id, CheckStatus status, String observed, String fixIt) {
  static CheckResult ok(CheckId id, String observed) {
    return new CheckResult(id, CheckStatus.OK, observed, "");
  }

  static CheckResult warning(CheckId id, String observed, String fixIt) {
    return new CheckResult(id, CheckStatus.WARNING, observed, fixIt);
  }

  static CheckResult failed(CheckId id, String observed, String fixIt) {
    return new CheckResult(id, CheckStatus.FAILED, observed, fixIt);
  }

  static CheckResult skipped(CheckId id, String why) {
    return new CheckResult(id, CheckStatus.SKIPPED, why, "");
  }
}
