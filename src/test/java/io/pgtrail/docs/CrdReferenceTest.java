package io.pgtrail.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/crd-reference.md is what the committed CRDs say, field for field. */
class CrdReferenceTest {
  @Test
  void theCrdReferenceIsGeneratedFromTheCommittedCrds() throws Exception {
    Path reference = DocFiles.root().resolve("docs/crd-reference.md");
    String generated = CrdReference.render(DocFiles.root().resolve("crds"));
    if (Boolean.getBoolean("pgtrail.docs.write")) {
      Files.writeString(reference, generated);
    }
    assertThat(Files.exists(reference) ? Files.readString(reference) : "")
        .as("docs/crd-reference.md is stale: mvn -B -q test -Dtest=CrdReferenceTest -Dpgtrail.docs.write=true")
        .isEqualTo(generated);
  }
}
