package io.pgtrail.helm;

import java.nio.file.Path;

/** Paths inside the project, wherever the test JVM was started from. */
final class ProjectFiles {

  private ProjectFiles() {}

  /** The project root: Maven's {@code basedir}, else the working directory. */
  static Path root() {
    String basedir = System.getProperty("basedir");
    Path root = basedir == null || basedir.isBlank() ? Path.of("") : Path.of(basedir);
    return root.toAbsolutePath().normalize();
  }

  static Path chart() {
    return root().resolve("helm/pgtrail");
  }

  static Path testValues(String fileName) {
    return root().resolve("src/test/resources/helm").resolve(fileName);
  }

  static Path buildDirectory() {
    return root().resolve("target");
  }
}
