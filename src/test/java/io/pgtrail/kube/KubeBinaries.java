package io.pgtrail.kube;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The kube-apiserver, kube-controller-manager and etcd binaries of the real-API-server tier. {@code .ci/kube-binaries.sh} builds
 * them from their Go modules into a per-machine cache (once; it prints the folder), and this class asks it.
 *
 * <ul>
 *   <li>{@code -Dpgtrail.test.kube.bin=DIR} (or env {@code PGTRAIL_KUBE_BIN}) uses binaries from DIR instead.
 *   <li>Without Go and without built binaries, the tier is skipped with a message saying how to enable it;
 *       in CI ({@code CI=true}) it fails instead: there the tier must run.
 * </ul>
 */
final class KubeBinaries {
  static final String SCRIPT = ".ci/kube-binaries.sh";
  private static final int NO_GO_TOOLCHAIN = 3;
  private static Path directory;
  private static String unavailable;

  /** Disables a test class of the tier, with the reason, where the binaries cannot be had (never in CI). */
  static final class Required implements ExecutionCondition {
    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
      directory();
      return unavailable == null ? ConditionEvaluationResult.enabled("kube-apiserver and etcd are built")
          : ConditionEvaluationResult.disabled(unavailable);
    }
  }

  private KubeBinaries() {}

  /** The folder holding the three binaries, or null where they cannot be had (outside CI only). */
  static synchronized Path directory() {
    if (directory == null && unavailable == null) {
      directory = locate();
    }
    return directory;
  }

  static boolean inCi() {
    return io.pgtrail.testing.Prerequisites.inCi();
  }

  private static Path locate() {
    String override = System.getProperty("pgtrail.test.kube.bin", System.getenv().getOrDefault("PGTRAIL_KUBE_BIN", ""));
    if (!override.isBlank()) {
      return requireBinaries(Path.of(override));
    }
    Path root = projectRoot();
    Path log = root.resolve("target/kube-binaries.log");
    try {
      Files.createDirectories(log.getParent());
      Process build = new ProcessBuilder(List.of("bash", root.resolve(SCRIPT).toString()))
          .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      String out = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (!build.waitFor(90, TimeUnit.MINUTES)) {
        build.destroyForcibly();
        throw new IllegalStateException(SCRIPT + " did not finish within 90 minutes; see " + log);
      }
      if (build.exitValue() == NO_GO_TOOLCHAIN) {
        return unavailable("no Go toolchain on this machine. The real-API-server tests (io.pgtrail.kube) need "
            + "kube-apiserver and etcd built from source: install Go 1.24+ and run `bash " + SCRIPT + "` once "
            + "(or point -Dpgtrail.test.kube.bin at a folder holding kube-apiserver, kube-controller-manager and etcd). See docs/testing.md.");
      }
      if (build.exitValue() != 0) {
        throw new IllegalStateException(SCRIPT + " failed (exit " + build.exitValue() + "); see " + log);
      }
      String[] lines = out.split("\n");
      return requireBinaries(Path.of(lines[lines.length - 1].strip()));
    } catch (IOException e) {
      throw new IllegalStateException("could not run " + SCRIPT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while building the Kubernetes binaries", e);
    }
  }

  private static Path unavailable(String why) {
    if (inCi()) {
      throw new IllegalStateException("CI=true and the real-API-server tier cannot run: " + why);
    }
    unavailable = "skipped: " + why;
    System.err.println("[pgtrail] real-API-server tier " + unavailable);
    return null;
  }

  private static Path requireBinaries(Path dir) {
    for (String name : List.of("kube-apiserver", "kube-controller-manager", "etcd")) {
      if (!Files.isExecutable(dir.resolve(name))) {
        throw new IllegalStateException("no executable " + name + " in " + dir);
      }
    }
    return dir.toAbsolutePath();
  }

  static Path projectRoot() {
    String basedir = System.getProperty("basedir");
    Path root = basedir == null || basedir.isBlank() ? Path.of("") : Path.of(basedir);
    return root.toAbsolutePath().normalize();
  }
}
