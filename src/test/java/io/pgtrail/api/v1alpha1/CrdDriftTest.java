package io.pgtrail.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The committed CRDs must equal the ones the crd-generator plugin writes during the build. On failure,
 * copy them: {@code cp target/classes/META-INF/fabric8/*.yml crds/} (and into helm/pgtrail/crds/).
 */
class CrdDriftTest {
  static final Path GENERATED = Path.of("target/classes/META-INF/fabric8");
  static final List<String> FILES =
      List.of("sourcedatabases.pgtrail.io-v1.yml", "trackingpolicies.pgtrail.io-v1.yml");

  @Test
  void committedCrdsMatchTheGeneratedOnes() throws IOException {
    assertCopiesMatch(Path.of("crds"));
  }

  @Test
  void helmChartCrdsMatchTheGeneratedOnes() throws IOException {
    // the chart is part of the repository: without it this is a failure, not a silent pass
    assertThat(Path.of("helm/pgtrail")).isDirectory();
    assertCopiesMatch(Path.of("helm/pgtrail/crds"));
  }

  @Test
  void generatorWritesNoOtherCrds() throws IOException {
    try (Stream<Path> files = Files.list(GENERATED)) {
      assertThat(files.map(p -> p.getFileName().toString()).sorted().toList()).isEqualTo(FILES);
    }
  }

  private static void assertCopiesMatch(Path directory) throws IOException {
    for (String file : FILES) {
      Path generated = GENERATED.resolve(file);
      Path committed = directory.resolve(file);
      assertThat(committed).as("%s is missing: cp %s %s", committed, generated, directory).exists();
      assertThat(Files.readString(committed))
          .as("%s drifted from the generated CRD: cp %s %s", committed, generated, directory)
          .isEqualTo(Files.readString(generated));
    }
  }
}
