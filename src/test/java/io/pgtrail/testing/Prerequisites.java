package io.pgtrail.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Tests that need a tool from outside the build (OpenSSH's ssh-keygen, ...) skip with the reason where it is
 * missing, and fail under {@code CI=true}: .ci/run installs what they need, so a skip there would hide a test
 * that CI must run.
 */
public final class Prerequisites {
  private Prerequisites() {}

  public static boolean inCi() {
    return "true".equalsIgnoreCase(System.getenv("CI"));
  }

  /** Skips (outside CI) or fails (in CI) unless {@code executable} can be run. */
  public static void assumeExecutable(Path executable, String why) {
    assume(Files.isExecutable(executable), executable + " is not installed (" + why + ")", inCi());
  }

  static void assume(boolean available, String missing, boolean inCi) {
    if (!available && inCi) {
      throw new IllegalStateException("CI=true and " + missing + ": CI must run this test, not skip it");
    }
    Assumptions.assumeTrue(available, missing);
  }
}
