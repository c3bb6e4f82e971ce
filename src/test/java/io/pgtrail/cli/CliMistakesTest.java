package io.pgtrail.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.Main;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Each user mistake, fed to the command line as its own process: one line that names what is wrong
 * and where (usage errors add one hint line), no stack trace, no exception class name, exit 2.
 */
class CliMistakesTest {
  @TempDir static Path dir;
  static int closedPort;

  @BeforeAll
  static void findAClosedPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }
  }

  record Answer(int exitCode, List<String> lines) {}

  @Test
  void fileMistakesNameTheFile() throws Exception {
    Path directory = Files.createDirectories(dir.resolve("a-directory"));
    assertOneLine(run("check", "--url", "postgresql://app@127.0.0.1/shop", "--password-file", "/nonexistent/pw"),
        "/nonexistent/pw", "no such file");
    assertOneLine(run("check", "--url", "postgresql://app@127.0.0.1/shop", "--password-file", directory.toString()),
        directory.toString(), "directory");
    assertOneLine(run("worker", "--config", "/nonexistent/worker.yaml"), "/nonexistent/worker.yaml");
    assertOneLine(run("worker", "--config", directory.toString()), directory.toString());
    Path badYaml = Files.writeString(dir.resolve("bad.yaml"), "source: \"unterminated\n");
    assertOneLine(run("worker", "--config", badYaml.toString()), "not valid YAML", "line");
    assertUsage(run("check", "--url", "postgresql://app@127.0.0.1/shop", "--ssh-host", "jump", "--ssh-user", "u",
        "--ssh-key-file", "/nonexistent/key"), "/nonexistent/key");
  }

  @Test
  void urlMistakesSayWhatAUrlLooksLike() throws Exception {
    assertOneLine(run("check", "--url", "mysql://app@db/shop"), "postgresql://");
    assertOneLine(run("check", "--url", "postgresql://app@[db/shop"), "postgresql://");
    assertOneLine(run("check", "--url", "postgresql://app@127.0.0.1:" + closedPort + "/shop"),
        "127.0.0.1:" + closedPort);
    Path config = Files.writeString(dir.resolve("worker-bad-url.yaml"), """
        source: { url: "mysql://app@db/shop" }
        slot: s
        publication: p
        destination: { url: "postgresql://audit@db/audit" }
        """);
    assertOneLine(run("worker", "--config", config.toString()), "postgresql://");
    assertOneLine(run("sql", "setup", "--provider", "bogus"), "bogus");
    assertOneLine(run("sql", "setup", "--slot", "Not-A-Slot"), "Not-A-Slot");
  }

  @Test
  void theOperatorNamesTheApiServerAndKubeconfigItCouldNotReach() throws Exception {
    Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://127.0.0.1:%d"}}]
        users: [{name: u, user: {token: t}}]
        contexts: [{name: test, context: {cluster: c, user: u}}]
        current-context: test
        """.formatted(closedPort));
    assertOneLine(runWith(Map.of("KUBECONFIG", kubeconfig.toString()), "operator"),
        "https://127.0.0.1:" + closedPort, "kubeconfig " + kubeconfig, "context test", "connection refused");
    assertOneLine(runWith(Map.of("KUBECONFIG", "/nonexistent/kubeconfig"), "operator"), "/nonexistent/kubeconfig");
    Path garbage = Files.writeString(dir.resolve("garbage-kubeconfig"), "clusters: [unclosed\n");
    assertOneLine(runWith(Map.of("KUBECONFIG", garbage.toString()), "operator"), garbage.toString());
  }

  @Test
  void usageErrorsPrintTheErrorAndOneHint() throws Exception {
    assertUsage(run("check"), "--url");
    assertUsage(run("check", "--url", "postgresql://a@b/c", "--output", "xml"), "xml");
    assertUsage(run("no-such-command"), "no-such-command");
    assertUsage(run("worker"), "--config");
    assertUsage(run("sql"), "setup|teardown");
  }

  @Test
  void everyCommandListsItsExitCodes() {
    List<CommandLine> commands = new ArrayList<>(Main.commandLine().getSubcommands().values());
    commands.add(Main.commandLine());
    for (CommandLine command : commands) {
      if (command.getCommandSpec().userObject() instanceof CommandLine.HelpCommand) {
        continue;
      }
      String help = command.getUsageMessage();
      assertThat(help).as(command.getCommandName() + " --help").contains("Exit codes:").containsPattern("\\n  2 ");
    }
  }

  private static void assertOneLine(Answer answer, String... naming) {
    assertThat(answer.lines()).as("output").hasSize(1);
    assertNoTrace(answer);
    assertThat(answer.lines().get(0)).startsWith("pgtrail ").contains(naming);
  }

  private static void assertUsage(Answer answer, String naming) {
    assertThat(answer.lines()).as("output").hasSize(2);
    assertNoTrace(answer);
    assertThat(answer.lines().get(0)).startsWith("pgtrail").contains(naming);
    assertThat(answer.lines().get(1)).startsWith("Run 'pgtrail").endsWith("--help' for usage and exit codes.");
  }

  private static void assertNoTrace(Answer answer) {
    assertThat(answer.exitCode()).as("exit code of " + answer.lines()).isEqualTo(2);
    assertThat(String.join("\n", answer.lines())).doesNotContain("Exception", "\tat ", "Caused by");
  }

  private static Answer run(String... args) throws Exception {
    return runWith(Map.of(), args);
  }

  private static Answer runWith(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
        Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("PGPASSWORD");
    builder.environment().remove("KUBECONFIG");
    builder.environment().put("PGTRAIL_LOG_LEVEL", "ERROR");
    builder.environment().putAll(env);
    Process process = builder.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Answer(process.exitValue(), output.lines().filter(line -> !line.isBlank()).toList());
  }
}
