package io.pgtrail.kube;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code pgtrail operator} as the image runs it: {@code java -jar} on the production runtime jar that
 * {@code package} built (the jar the Dockerfile copies), with the container's args and environment read from
 * the chart's rendered Deployment (downward-API namespace fields resolved), authenticated with a kubeconfig
 * holding the chart's ServiceAccount token. Runs after {@code package} (failsafe), like ImageContentsIT.
 */
final class OperatorProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private OperatorProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  static OperatorProcess start(JsonNode renderedDeployment, String releaseNamespace, Path kubeconfig, int httpPort,
      Path directory) throws IOException {
    JsonNode container = renderedDeployment.path("spec").path("template").path("spec").path("containers").get(0);
    Path runtimeJar = KubeBinaries.projectRoot().resolve(System.getProperty("pgtrail.test.runtimeJar",
        "target/pgtrail-runtime.jar"));
    if (!Files.isRegularFile(runtimeJar)) {
      throw new IllegalStateException("no production runtime jar at " + runtimeJar + ": this test runs after "
          + "`package` (mvn verify, failsafe)");
    }
    // the chart's JAVA_TOOL_OPTIONS stay; a heap limit on the command line stands in for the container's memory limit
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-jar", runtimeJar.toString()));
    container.path("args").forEach(arg -> command.add(arg.asText()));
    Path log = Files.createTempFile(directory, "operator-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> environment = builder.environment();
    environment.putAll(chartEnvironment(container, releaseNamespace));
    environment.put("PGTRAIL_METRICS_PORT", Integer.toString(httpPort));
    environment.put("KUBECONFIG", kubeconfig.toString());
    return new OperatorProcess(builder.start(), log);
  }

  /** Pod fields the kubelet fills in for a fieldRef, as they are for this process. */
  private static final Map<String, String> DOWNWARD_API = Map.of(
      "metadata.namespace", "(the release namespace)",
      "metadata.name", "pgtrail-operator-0",
      "status.podIP", "127.0.0.1",
      "spec.nodeName", "localhost");

  /** The container's env as the kubelet would set it (value, or a fieldRef to the pod's namespace). */
  static Map<String, String> chartEnvironment(JsonNode container, String releaseNamespace) {
    Map<String, String> environment = new java.util.LinkedHashMap<>();
    for (JsonNode variable : container.path("env")) {
      String name = variable.path("name").asText();
      if (variable.has("value")) {
        environment.put(name, variable.path("value").asText());
      } else if (DOWNWARD_API.containsKey(variable.path("valueFrom").path("fieldRef").path("fieldPath").asText())) {
        String field = variable.path("valueFrom").path("fieldRef").path("fieldPath").asText();
        environment.put(name, field.equals("metadata.namespace") ? releaseNamespace : DOWNWARD_API.get(field));
      } else {
        throw new IllegalStateException("the chart sets " + name + " from " + variable.path("valueFrom")
            + ": teach OperatorProcess how the kubelet resolves it");
      }
    }
    return environment;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  Path logFile() {
    return log;
  }

  /** SIGTERM, as the kubelet stops a pod; the exit code, or -1 if it did not stop in time. */
  int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
