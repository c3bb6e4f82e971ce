package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.stream.IntStream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The Jib configuration, the Dockerfile and the chart agree on the image: base, jar path,
 * entrypoint and the non-root user the chart's securityContext expects. No registry is reachable
 * here, so the image itself is not built by the tests.
 */
class ImageConfigurationTest {

  private static final String BASE_IMAGE = "eclipse-temurin:17-jre";
  private static final List<String> ENTRYPOINT = List.of("java", "-jar", "/app/pgtrail-runtime.jar");
  /** The production runtime jar the build shades beside the tool jar (see pom.xml). */
  private static final String RUNTIME_JAR = "pgtrail-runtime.jar";

  private static Element jib;
  private static List<String> dockerfile;

  @BeforeAll
  static void read() throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(false);
    Document pom = factory.newDocumentBuilder().parse(ProjectFiles.root().resolve("pom.xml").toFile());
    jib = buildPlugins(pom).stream()
        .filter(plugin -> "jib-maven-plugin".equals(text(plugin, "artifactId")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("pom.xml declares no jib-maven-plugin under build/plugins"));
    dockerfile = Files.readAllLines(ProjectFiles.root().resolve("Dockerfile"));
  }

  @Test
  void jibIsA34ReleaseThatNoLifecyclePhaseRuns() {
    assertThat(text(jib, "version")).startsWith("3.4.");
    assertThat(jib.getElementsByTagName("executions").getLength())
        .as("jib must only run when asked (mvn jib:build), never in mvn verify").isZero();
  }

  @Test
  void jibBuildsFromTheTemurinJreAndRunsTheRuntimeJar() {
    Element configuration = child(jib, "configuration");
    Element container = child(configuration, "container");

    assertThat(text(child(configuration, "from"), "image")).isEqualTo(BASE_IMAGE);
    assertThat(children(child(container, "entrypoint"), "arg")).isEqualTo(ENTRYPOINT);
    assertThat(text(child(child(child(configuration, "extraDirectories"), "paths"), "path"), "includes"))
        .isEqualTo(RUNTIME_JAR);
  }

  @Test
  void jibAndTheDockerfileRunAsTheSameNonRootUserAsTheChartExpects() throws IOException {
    String jibUser = text(child(child(jib, "configuration"), "container"), "user");
    String dockerfileUser = instruction("USER");
    long chartUser = chartValues().path("securityContext").path("runAsUser").asLong();

    assertThat(jibUser).isEqualTo(dockerfileUser).matches("[1-9][0-9]*:[0-9]+");
    assertThat(Long.parseLong(jibUser.split(":")[0])).isEqualTo(chartUser)
        .isEqualTo(chartValues().path("podSecurityContext").path("runAsUser").asLong());
  }

  @Test
  void dockerfileRunsTheSameJarOnTheSameBase() throws IOException {
    String runtimeBase = dockerfile.stream().filter(line -> line.startsWith("FROM ")).reduce((a, b) -> b).orElseThrow();
    JsonNode entrypoint = new ObjectMapper().readTree(instruction("ENTRYPOINT"));

    assertThat(runtimeBase).isEqualTo("FROM " + BASE_IMAGE);
    assertThat(IntStream.range(0, entrypoint.size()).mapToObj(i -> entrypoint.get(i).asText()).toList())
        .isEqualTo(ENTRYPOINT);
    assertThat(dockerfile).anyMatch(line -> line.equals("COPY --from=build /src/target/" + RUNTIME_JAR
        + " /app/" + RUNTIME_JAR));
  }

  private static String instruction(String keyword) {
    return dockerfile.stream()
        .filter(line -> line.startsWith(keyword + " "))
        .reduce((first, last) -> last)
        .map(line -> line.substring(keyword.length() + 1).trim())
        .orElseThrow(() -> new AssertionError("Dockerfile has no " + keyword));
  }

  private static JsonNode chartValues() throws IOException {
    return new YAMLMapper().readTree(ProjectFiles.chart().resolve("values.yaml").toFile());
  }

  private static List<Element> buildPlugins(Document pom) {
    Element build = child(pom.getDocumentElement(), "build");
    return elements(child(build, "plugins").getChildNodes()).stream()
        .filter(element -> element.getTagName().equals("plugin"))
        .toList();
  }

  private static Element child(Element parent, String name) {
    return elements(parent.getChildNodes()).stream()
        .filter(element -> element.getTagName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("<" + parent.getTagName() + "> has no <" + name + ">"));
  }

  private static List<String> children(Element parent, String name) {
    return elements(parent.getChildNodes()).stream()
        .filter(element -> element.getTagName().equals(name))
        .map(element -> element.getTextContent().trim())
        .toList();
  }

  private static String text(Element parent, String name) {
    return child(parent, name).getTextContent().trim();
  }

  private static List<Element> elements(NodeList nodes) {
    return IntStream.range(0, nodes.getLength())
        .mapToObj(nodes::item)
        .filter(node -> node.getNodeType() == Node.ELEMENT_NODE)
        .map(Element.class::cast)
        .toList();
  }
}
