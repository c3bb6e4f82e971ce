package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.pgtrail.operator.OperatorCommand;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The chart and the operator process agree on how settings travel: every PGTRAIL_ variable the
 * chart sets is read by the operator (its picocli options or logback.xml), and each setting that
 * matters in a pod arrives through a variable the operator reads.
 */
class ChartOperatorContractTest {

  private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{env:([A-Z0-9_]+)");

  /** Option name (e.g. --http-port) to the environment variables its default reads, in order. */
  private static Map<String, List<String>> optionEnvironment;
  private static String logbackXml;
  private static Container container;

  @BeforeAll
  static void read() throws IOException {
    optionEnvironment = new TreeMap<>();
    for (Field field : OperatorCommand.class.getDeclaredFields()) {
      Option option = field.getAnnotation(Option.class);
      if (option != null) {
        optionEnvironment.put(option.names()[0], envReferences(option.defaultValue()));
      }
    }
    logbackXml = Files.readString(ProjectFiles.root().resolve("src/main/resources/logback.xml"));
    container = RenderedChart.render("--set", "metrics.port=9191").one(Deployment.class)
        .getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  @Test
  void theContainerRunsTheOperatorSubcommand() {
    assertThat(container.getArgs()).containsExactly(OperatorCommand.class.getAnnotation(Command.class).name());
  }

  @Test
  void everyPgtrailVariableTheChartSetsIsReadByTheOperator() {
    List<String> unread = new ArrayList<>();
    for (EnvVar env : container.getEnv()) {
      String name = env.getName();
      boolean read = optionEnvironment.values().stream().anyMatch(names -> names.contains(name))
          || logbackXml.contains("${" + name);
      if (name.startsWith("PGTRAIL_") && !read) {
        unread.add(name);
      }
    }
    assertThat(unread).as("variables the chart sets but neither OperatorCommand nor logback.xml reads").isEmpty();
  }

  @Test
  void theLeaseNamespaceIsThePodsNamespace() {
    EnvVar env = chartVariableReadBy("--lease-namespace");

    assertThat(env.getValueFrom()).isNotNull();
    assertThat(env.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.namespace");
  }

  @Test
  void theHttpPortIsTheContainerPortTheProbesUse() {
    EnvVar env = chartVariableReadBy("--http-port");

    assertThat(env.getValue()).isEqualTo("9191");
    assertThat(container.getPorts()).singleElement()
        .satisfies(port -> assertThat(port.getContainerPort()).isEqualTo(9191));
  }

  @Test
  void watchScopeLeaderElectionAndWorkerImageArriveThroughVariablesTheOperatorReads() {
    assertThat(chartVariableReadBy("--watch-namespaces").getValue()).isEmpty();
    assertThat(chartVariableReadBy("--leader-election").getValue()).isEqualTo("true");
    assertThat(chartVariableReadBy("--worker-image").getValue()).isEqualTo(container.getImage());
  }

  @Test
  void logLevelAndFormatReachLogback() {
    assertThat(logbackXml).contains("${PGTRAIL_LOG_LEVEL").contains("${PGTRAIL_LOG_FORMAT");
    assertThat(container.getEnv()).extracting(EnvVar::getName).contains("PGTRAIL_LOG_LEVEL", "PGTRAIL_LOG_FORMAT");
  }

  /** The first variable, in the option's own order of preference, that the chart sets. */
  private static EnvVar chartVariableReadBy(String optionName) {
    List<String> names = optionEnvironment.get(optionName);
    assertThat(names).as("OperatorCommand option " + optionName + " and the variables it reads").isNotEmpty();
    Optional<EnvVar> set = names.stream()
        .flatMap(name -> container.getEnv().stream().filter(env -> env.getName().equals(name)))
        .findFirst();
    assertThat(set).as("the chart sets none of " + names + " (read by " + optionName + ")").isPresent();
    return set.get();
  }

  private static List<String> envReferences(String defaultValue) {
    List<String> names = new ArrayList<>();
    Matcher matcher = ENV_REFERENCE.matcher(defaultValue);
    while (matcher.find()) {
      names.add(matcher.group(1));
    }
    return names;
  }
}
