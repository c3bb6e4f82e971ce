package io.pgtrail.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** The project's documentation: README.md and docs/*.md. */
final class DocFiles {
  private DocFiles() {}

  static Path root() {
    String basedir = System.getProperty("basedir");
    return (basedir == null || basedir.isBlank() ? Path.of("") : Path.of(basedir)).toAbsolutePath().normalize();
  }

  static String read(String relative) {
    try {
      return Files.readString(root().resolve(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** README.md and every docs/*.md, concatenated. */
  static String all() {
    try (Stream<Path> docs = Files.list(root().resolve("docs"))) {
      return read("README.md") + "\n" + docs.filter(p -> p.toString().endsWith(".md")).sorted()
          .map(p -> read(root().relativize(p).toString())).collect(Collectors.joining("\n"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
