package io.pgtrail.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image's contents, assembled the way the Dockerfile assembles them (its runtime stage's
 * COPY of the packaged jar into /app, then its ENTRYPOINT), run from a fresh directory: every
 * subcommand answers --help and --version, and nothing of the demo or the tests came along.
 * Runs after `package` (failsafe), on the jars the build just produced.
 */
class ImageContentsIT {
  private static final Pattern COPY_JAR = Pattern.compile("COPY --from=build /src/(target/\\S+\\.jar) (/app/\\S+\\.jar)");
  private static final long MAX_RUNTIME_BYTES = 40L * 1024 * 1024;
  private static final List<String> PRODUCTION_COMMANDS = List.of("operator", "worker", "check", "sql");

  @TempDir static Path imageRoot;
  static List<String> entrypoint;
  static Path runtimeJarInImage;

  @BeforeAll
  static void assembleTheImageLikeTheDockerfile() throws IOException {
    List<String> dockerfile = Files.readAllLines(root().resolve("Dockerfile"));
    Matcher copy = dockerfile.stream().map(COPY_JAR::matcher).filter(Matcher::matches).reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("the Dockerfile copies no jar from the build stage"));
    runtimeJarInImage = imageRoot.resolve(copy.group(2).substring(1));
    Files.createDirectories(runtimeJarInImage.getParent());
    Files.copy(root().resolve(copy.group(1)), runtimeJarInImage);

    JsonNode entry = new ObjectMapper().readTree(dockerfile.stream().filter(l -> l.startsWith("ENTRYPOINT "))
        .reduce((a, b) -> b).orElseThrow().substring("ENTRYPOINT ".length()));
    entrypoint = IntStream.range(0, entry.size()).mapToObj(i -> entry.get(i).asText())
        .map(arg -> arg.startsWith("/app/") ? imageRoot.resolve(arg.substring(1)).toString() : arg)
        .toList();
    assertThat(entrypoint).contains(runtimeJarInImage.toString());
  }

  @Test
  void theImageCarriesTheProductionRuntimeOnly() throws IOException {
    assertThat(Files.size(runtimeJarInImage)).as("runtime jar size").isLessThanOrEqualTo(MAX_RUNTIME_BYTES);
    List<String> entries = entries(runtimeJarInImage);
    assertThat(entries).contains("io/pgtrail/Main.class", "io/pgtrail/operator/OperatorCommand.class",
        "io/pgtrail/worker/WorkerCommand.class", "io/pgtrail/cli/CheckCommand.class", "io/pgtrail/cli/SqlCommand.class",
        "org/postgresql/Driver.class", "org/apache/sshd/client/SshClient.class",
        "org/bouncycastle/jce/provider/BouncyCastleProvider.class", "logback.xml");
    assertThat(entries).noneMatch(e -> e.startsWith("io/pgtrail/demo/") || e.startsWith("io/pgtrail/worker/bench/")
        || e.startsWith("io/pgtrail/postgres/embedded/") || e.startsWith("io/zonky/") || e.endsWith(".txz")
        || e.startsWith("io/fabric8/mockwebserver/") || e.startsWith("io/fabric8/kubernetes/client/server/mock/")
        || e.startsWith("io/vertx/") || e.startsWith("io/netty/"));
  }

  @Test
  void everySubcommandAnswersHelpAndVersionFromTheImage() throws Exception {
    String expectedVersion = "pgtrail " + System.getProperty("pgtrail.version");
    Run top = run("--help");
    assertThat(top.exitCode()).isZero();
    for (String command : PRODUCTION_COMMANDS) {
      assertThat(top.output()).contains("  " + command + " ");
    }
    assertThat(top.output()).doesNotContain("  demo ", "  bench ");
    assertThat(run("--version").output()).startsWith(expectedVersion);

    for (String command : PRODUCTION_COMMANDS) {
      Run help = run(command, "--help");
      assertThat(help.exitCode()).as(command + " --help").isZero();
      assertThat(help.output()).as(command + " --help").startsWith("Usage: pgtrail " + command)
          .doesNotContain("Exception");
      Run version = run(command, "--version");
      assertThat(version.exitCode()).as(command + " --version").isZero();
      assertThat(version.output()).as(command + " --version").startsWith(expectedVersion);
    }
  }

  @Test
  void theToolJarCarriesTheDemoWithPostgresForFourPlatforms() throws Exception {
    Path tool = root().resolve("target/pgtrail.jar");
    assertThat(entries(tool)).contains("io/pgtrail/demo/DemoCommand.class", "io/pgtrail/worker/bench/BenchCommand.class",
        "io/pgtrail/demo/manifests/credentials.yaml", "postgres-linux-x86_64.txz", "postgres-linux-arm_64.txz",
        "postgres-darwin-x86_64.txz", "postgres-darwin-arm_64.txz");
    Run help = exec(List.of(java(), "-jar", tool.toString(), "--help"));
    assertThat(help.output()).contains("  demo ", "  bench ");
  }

  @Test
  void theImageRunsTheOperatorAgainstAnApiServer() throws Exception {
    try (MockCluster cluster = new MockCluster()) {
      Path kubeconfig = Files.writeString(imageRoot.resolve("kubeconfig"), """
          apiVersion: v1
          kind: Config
          clusters: [{name: mock, cluster: {server: "%s", insecure-skip-tls-verify: true}}]
          users: [{name: u, user: {token: t}}]
          contexts: [{name: mock, context: {cluster: mock, user: u, namespace: %s}}]
          current-context: mock
          """.formatted(cluster.client().getMasterUrl(), MockCluster.NAMESPACE));
      int port = freePort();
      Path log = imageRoot.resolve("operator.log");
      Process operator = start(log, Map.of("KUBECONFIG", kubeconfig.toString()), "operator",
          "--leader-election=false", "--http-port=" + port, "--watch-namespaces=" + MockCluster.NAMESPACE);
      try {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
          assertThat(operator.isAlive()).as(Files.readString(log)).isTrue();
          assertThat(httpStatus(port, "/readyz")).isEqualTo(200);
        });
        assertThat(Files.readString(log)).contains(cluster.client().getMasterUrl().toString().replaceAll("/$", ""))
            .contains("kubeconfig " + kubeconfig);
      } finally {
        operator.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void theImageRunsAWorkerThatRecordsAChange() throws Exception {
    ConnectionSettings source = TestPostgres.newDatabase(PgVersion.primary(), "image_source");
    ConnectionSettings destination = TestPostgres.newDatabase(PgVersion.primary(), "image_destination");
    try (Connection c = PgConnections.open(source); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE items (id int PRIMARY KEY, name text)");
      st.execute("CREATE PUBLICATION image_pub FOR TABLE items");
    }
    int port = freePort();
    Path config = Files.writeString(imageRoot.resolve("worker.yaml"), String.join("\n",
        "source: { url: \"" + source.redacted() + "\" }",
        "slot: image_slot",
        "publication: image_pub",
        "destination: { url: \"" + destination.redacted() + "\" }",
        "metrics: { port: " + port + " }",
        ""));
    Path log = imageRoot.resolve("worker.log");
    Process worker = start(log, Map.of(), "worker", "--config", config.toString());
    try {
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        assertThat(worker.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(httpStatus(port, "/readyz")).isEqualTo(200);
      });
      try (Connection c = PgConnections.open(source); Statement st = c.createStatement()) {
        st.execute("INSERT INTO items VALUES (1, 'first')");
      }
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
        try (Connection c = PgConnections.open(destination); Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT count(*) FROM changes WHERE \"table\" = 'items'")) {
          rs.next();
          assertThat(rs.getInt(1)).as(Files.readString(log)).isEqualTo(1);
        }
      });
    } finally {
      worker.destroy();
      worker.waitFor(20, TimeUnit.SECONDS);
      worker.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      // the slot would hold WAL of the shared server for the rest of the run
      io.pgtrail.worker.WorkerHarness.dropSlot(source, "image_slot");
    }
  }

  private static Process start(Path log, Map<String, String> env, String... args) throws IOException {
    List<String> command = new ArrayList<>(entrypoint);
    command.set(0, java());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(imageRoot.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    builder.environment().putAll(env);
    builder.environment().put("PGTRAIL_LOG_FORMAT", "text");
    return builder.start();
  }

  private static int httpStatus(int port, String path) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  record Run(int exitCode, String output) {}

  private static Run run(String... args) throws Exception {
    List<String> command = new ArrayList<>(entrypoint);
    command.set(0, java());
    command.addAll(List.of(args));
    return exec(command);
  }

  private static Run exec(List<String> command) throws Exception {
    Process process = new ProcessBuilder(command).directory(imageRoot.toFile()).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(process.exitValue(), output);
  }

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private static List<String> entries(Path jar) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      return zip.stream().map(ZipEntry::getName).toList();
    }
  }

  private static Path root() {
    String basedir = System.getProperty("basedir");
    return (basedir == null || basedir.isBlank() ? Path.of("") : Path.of(basedir)).toAbsolutePath().normalize();
  }
}
