package io.pgtrail.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** helm against the pgtrail chart, with its caches kept under target/ instead of the home directory. */
public final class Helm {

  public static final String RELEASE = "pgtrail";
  public static final String NAMESPACE = "pgtrail-system";
  private static final Duration TIMEOUT = Duration.ofMinutes(2);

  private Helm() {}

  /** {@code helm lint --strict} on the chart, with extra arguments such as {@code -f values.yaml}. */
  static Command.Result lint(String... extraArguments) {
    List<String> arguments = new ArrayList<>(List.of("lint", "--strict", ProjectFiles.chart().toString()));
    arguments.addAll(List.of(extraArguments));
    return run(arguments);
  }

  /** {@code helm template} of the chart (CRDs included) as release {@value #RELEASE} in {@value #NAMESPACE}. */
  static Command.Result template(String... extraArguments) {
    List<String> arguments = new ArrayList<>(List.of("template", RELEASE, ProjectFiles.chart().toString(),
        "--namespace", NAMESPACE, "--include-crds"));
    arguments.addAll(List.of(extraArguments));
    return run(arguments);
  }

  /**
   * The NOTES a {@code helm install} prints, rendered without a cluster ({@code --dry-run=client}
   * with no kubeconfig).
   */
  static String installNotes(String... extraArguments) {
    List<String> arguments = new ArrayList<>(List.of("install", RELEASE, ProjectFiles.chart().toString(),
        "--namespace", NAMESPACE, "--dry-run=client"));
    arguments.addAll(List.of(extraArguments));
    String output = run(arguments).requireSuccess().stdout();
    int notes = output.indexOf("NOTES:");
    if (notes < 0) {
      throw new IllegalStateException("helm install --dry-run printed no NOTES:\n" + output);
    }
    return output.substring(notes);
  }

  /** Renders the chart and returns every manifest, in order. */
  public static List<JsonNode> render(String... extraArguments) {
    return parseManifests(template(extraArguments).requireSuccess().stdout());
  }

  static List<JsonNode> parseManifests(String multiDocumentYaml) {
    List<JsonNode> manifests = new ArrayList<>();
    try (MappingIterator<JsonNode> documents =
        new YAMLMapper().readerFor(JsonNode.class).readValues(multiDocumentYaml)) {
      while (documents.hasNextValue()) {
        JsonNode document = documents.nextValue();
        if (document != null && !document.isNull() && !document.isEmpty()) {
          manifests.add(document);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("helm printed YAML that does not parse", e);
    }
    return manifests;
  }

  private static Command.Result run(List<String> arguments) {
    List<String> command = new ArrayList<>();
    command.add(HelmInstallation.helm().toString());
    command.addAll(arguments);
    Path home = ProjectFiles.buildDirectory().resolve("helm-home");
    Map<String, String> environment = Map.of(
        "HELM_CACHE_HOME", home.resolve("cache").toString(),
        "HELM_CONFIG_HOME", home.resolve("config").toString(),
        "HELM_DATA_HOME", home.resolve("data").toString(),
        // never a real cluster: client-side dry runs only
        "KUBECONFIG", home.resolve("no-kubeconfig").toString());
    try {
      return Command.run(command, ProjectFiles.root(), environment, TIMEOUT);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + command.get(0), e);
    }
  }
}
