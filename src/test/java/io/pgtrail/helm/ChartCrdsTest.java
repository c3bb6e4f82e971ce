package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The chart installs exactly the CRDs that the operator build generates into crds/. */
class ChartCrdsTest {

  private static final String CRD = """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: sourcedatabases.pgtrail.io
      spec:
        group: pgtrail.io
        names: {kind: SourceDatabase, plural: sourcedatabases, singular: sourcedatabase}
        scope: Namespaced
        versions:
          - name: v1alpha1
            served: true
            storage: true
            schema:
              openAPIV3Schema: {type: object}
      """;

  @Test
  void chartCrdsAreExactlyTheCommittedCrds() {
    Path source = ProjectFiles.root().resolve("crds");
    Path chartCopy = ProjectFiles.chart().resolve("crds");
    List<String> differences = CrdCopies.differences(source, chartCopy);

    assertThat(differences)
        .as("the chart's CRDs drifted from crds/; refresh them with: rm -f helm/pgtrail/crds/* && cp crds/* helm/pgtrail/crds/")
        .isEmpty();
  }

  @Test
  void identicalCopiesAgree(@TempDir Path temp) throws IOException {
    Path source = write(temp.resolve("crds"), "sourcedatabases.pgtrail.io-v1.yml", CRD);
    Path copy = write(temp.resolve("chart"), "sourcedatabases.pgtrail.io-v1.yml", CRD);

    assertThat(CrdCopies.differences(source, copy)).isEmpty();
  }

  @Test
  void anEmptySourceIsNotAPass(@TempDir Path temp) throws IOException {
    Path source = Files.createDirectories(temp.resolve("crds"));
    Path copy = Files.createDirectories(temp.resolve("chart"));

    assertThat(CrdCopies.differences(source, copy)).singleElement().asString().contains("holds no CRD");
  }

  @Test
  void aChangedCopyIsDrift(@TempDir Path temp) throws IOException {
    Path source = write(temp.resolve("crds"), "sourcedatabases.pgtrail.io-v1.yml", CRD);
    Path copy = write(temp.resolve("chart"), "sourcedatabases.pgtrail.io-v1.yml", CRD.replace("v1alpha1", "v1beta1"));

    assertThat(CrdCopies.differences(source, copy)).singleElement().asString().contains("differs from");
  }

  @Test
  void aFileMissingOnEitherSideIsDrift(@TempDir Path temp) throws IOException {
    Path source = write(temp.resolve("crds"), "sourcedatabases.pgtrail.io-v1.yml", CRD);
    Path copy = write(temp.resolve("chart"), "trackingpolicies.pgtrail.io-v1.yml", CRD);

    assertThat(CrdCopies.differences(source, copy)).hasSize(2)
        .anySatisfy(problem -> assertThat(problem).contains("sourcedatabases.pgtrail.io-v1.yml is missing"))
        .anySatisfy(problem -> assertThat(problem).contains("trackingpolicies.pgtrail.io-v1.yml has no counterpart"));
  }

  @Test
  void aFileThatIsNoPgtrailCrdIsRefused(@TempDir Path temp) throws IOException {
    String notACrd = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
    Path source = write(temp.resolve("crds"), "x.yml", notACrd);
    Path copy = write(temp.resolve("chart"), "x.yml", notACrd);

    assertThat(CrdCopies.differences(source, copy)).singleElement().asString()
        .contains("is not a CustomResourceDefinition");
  }

  private static Path write(Path directory, String name, String content) throws IOException {
    Files.createDirectories(directory);
    Files.writeString(directory.resolve(name), content);
    return directory;
  }
}
