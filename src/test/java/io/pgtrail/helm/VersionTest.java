package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtrail.BuildVersion;
import io.pgtrail.Main;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.operator.OperatorOptions;
import io.pgtrail.reconciler.sourcedatabase.WorkerResources;
import io.pgtrail.reconciler.support.OwnedResources;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * One version everywhere: the Maven project version is what `--version` prints, the chart's
 * appVersion (its default image tag), the tag of the operator's default worker image, and the
 * app.kubernetes.io/version label of what the operator creates.
 */
class VersionTest {
  private static final String PROJECT_VERSION = System.getProperty("pgtrail.version");

  @Test
  void theBuildCarriesTheProjectVersionAndItsCommit() {
    assertThat(PROJECT_VERSION).as("surefire passes the Maven project version").isNotBlank();
    assertThat(BuildVersion.current().version()).isEqualTo(PROJECT_VERSION);
    if (Files.exists(ProjectFiles.root().resolve(".git"))) {
      assertThat(BuildVersion.current().commit()).matches("[0-9a-f]{7,40}");
    }
    assertThat(BuildVersion.current().describe()).startsWith("pgtrail " + PROJECT_VERSION);
  }

  @Test
  void everyCommandPrintsTheVersion() {
    CommandLine main = Main.commandLine();
    assertThat(versionOf(main)).isEqualTo(BuildVersion.current().describe());
    main.getSubcommands().values().stream()
        .filter(command -> !(command.getCommandSpec().userObject() instanceof CommandLine.HelpCommand))
        .forEach(command -> assertThat(versionOf(command)).as(command.getCommandName() + " --version")
            .isEqualTo(BuildVersion.current().describe()));
  }

  @Test
  void theChartAndTheOperatorDefaultToThisVersionsImage() {
    assertThat(ChartMetadata.appVersion()).as("Chart.yaml appVersion").isEqualTo(PROJECT_VERSION);
    assertThat(OperatorOptions.defaults().workerImage())
        .isEqualTo(ChartMetadata.defaultImage())
        .isEqualTo(OperatorOptions.DEFAULT_IMAGE_REPOSITORY + ":" + PROJECT_VERSION)
        .doesNotEndWith(":latest");
  }

  @Test
  void whatTheOperatorCreatesIsLabelledWithTheVersion() {
    SourceDatabase source = new SourceDatabase();
    source.setMetadata(new ObjectMetaBuilder().withName("shop").withNamespace("apps").build());
    assertThat(WorkerResources.labels(source)).containsEntry(OwnedResources.VERSION, PROJECT_VERSION)
        .containsEntry("app.kubernetes.io/version", PROJECT_VERSION);
  }

  private static String versionOf(CommandLine command) {
    StringWriter out = new StringWriter();
    command.printVersionHelp(new PrintWriter(out, true));
    return out.toString().strip();
  }
}
