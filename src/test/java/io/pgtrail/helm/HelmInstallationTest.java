package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Getting helm: installed by the tests themselves, and a clear failure when that cannot work. */
class HelmInstallationTest {

  @Test
  void helmIsInstalledUnderToolsAndRuns() throws Exception {
    Path helm = HelmInstallation.helm();

    assertThat(Files.isExecutable(helm)).isTrue();
    if (System.getProperty("pgtrail.test.helm", "").isBlank()) {
      assertThat(helm).startsWith(HelmInstallation.toolsDirectory());
    }
    Command.Result version = Command.run(java.util.List.of(helm.toString(), "version", "--short"),
        ProjectFiles.root(), java.util.Map.of(), java.time.Duration.ofSeconds(30)).requireSuccess();
    assertThat(version.stdout()).startsWith("v");
  }

  @Test
  void withoutNpmTheFailureSaysWhatToInstall(@TempDir Path work) {
    assertThatThrownBy(() -> HelmInstallation.npmPack("npm-that-is-not-installed", work))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("npm-that-is-not-installed is not on the PATH")
        .hasMessageContaining("install Node.js")
        .hasMessageContaining("-Dpgtrail.test.helm");
  }
}
