package io.pgtrail.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** docs/architecture.md names only classes that exist, and maps every production package, no more. */
class ArchitectureDocTest {
  private static final Pattern CLASS_NAME = Pattern.compile("`([A-Z][A-Za-z0-9]+)`");
  private static final Pattern PACKAGE_ROW = Pattern.compile("(?m)^\\| `(io\\.pgtrail[a-z0-9.]*)` \\|");
  private static final Path MAIN = Path.of("src", "main", "java");
  private static final Path TEST = Path.of("src", "test", "java");

  private final String architecture = DocFiles.read("docs/architecture.md");

  @Test
  void everyClassNamedExists() throws IOException {
    Set<String> classes = new TreeSet<>(javaFileNames(MAIN));
    classes.addAll(javaFileNames(TEST));
    Set<String> named = classNamesIn(architecture);
    assertThat(named).hasSizeGreaterThan(40);
    assertThat(named.stream().filter(name -> !classes.contains(name)).toList())
        .as("classes docs/architecture.md names that do not exist (renamed or gone?)").isEmpty();
  }

  @Test
  void thePackageTableListsEveryProductionPackageAndNothingElse() throws IOException {
    assertThat(packagesIn(architecture)).containsExactlyInAnyOrderElementsOf(productionPackages());
  }

  @Test
  void theCheckerSeesMissingClasses() {
    assertThat(classNamesIn("`Worker` reads, `NoSuchThing` writes")).containsExactly("NoSuchThing", "Worker");
    assertThat(packagesIn("| `io.pgtrail.x.y` | owns |\n")).containsExactly("io.pgtrail.x.y");
  }

  private static Set<String> classNamesIn(String text) {
    Set<String> names = new TreeSet<>();
    Matcher m = CLASS_NAME.matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }

  private static List<String> packagesIn(String text) {
    return PACKAGE_ROW.matcher(text).results().map(r -> r.group(1)).toList();
  }

  private static Set<String> javaFileNames(Path sourceRoot) throws IOException {
    try (Stream<Path> files = Files.walk(DocFiles.root().resolve(sourceRoot))) {
      return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
          .map(n -> n.substring(0, n.length() - ".java".length())).collect(Collectors.toSet());
    }
  }

  private static Set<String> productionPackages() throws IOException {
    Path root = DocFiles.root().resolve(MAIN);
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(p -> p.toString().endsWith(".java") && !p.endsWith("package-info.java"))
          .map(p -> root.relativize(p.getParent()).toString().replace('/', '.'))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }
}
