package io.pgtrail.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.Main;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** Runs {@code pgtrail demo} in-process, as a user would from the jar, and checks what it recorded. */
class DemoCommandTest {
  /** A libpq URL that carries a password. */
  private static final Pattern URL_WITH_PASSWORD = Pattern.compile("postgresql://[^:@\\s/]+:[^@\\s]+@[^\\s']+");

  /** One in-process run: the command object (for what it recorded) and its output. */
  private static final class Run {
    final CommandLine cli = Main.commandLine();
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    Run() {
      cli.setOut(new PrintWriter(out, true));
      cli.setErr(new PrintWriter(err, true));
    }

    int execute(String... args) {
      int exit = cli.execute(args);
      // the demo's output is the product: keep it in the surefire report
      System.out.println("$ pgtrail " + String.join(" ", args) + "\n" + out);
      return exit;
    }

    DemoCommand demo() {
      return (DemoCommand) cli.getSubcommands().get("demo").getCommandSpec().userObject();
    }
  }

  @Test
  void recordsTheShopTrafficWithContextAndSkipsTheIgnoredColumnUpdate() {
    Run run = new Run();
    long started = System.nanoTime();
    int exit = run.execute("demo");
    System.out.printf("pgtrail demo (in-process): %d ms%n", (System.nanoTime() - started) / 1_000_000);
    String out = run.out.toString();

    assertThat(exit).as("exit code; output:%n%s%nerr:%n%s", out, run.err).isZero();
    assertRecordedShopTraffic(run.demo().recorded);
    assertThat(out)
        .contains("==> Applying k8s-examples/demo/")
        .contains("SourceDatabase demo/shop")
        .containsPattern("✓ WorkerAvailable\\s+WorkerAvailable")
        .containsPattern("✓ Ready\\s+Ready")
        .contains("OPERATION", "TABLE", "KEY", "CHANGED FIELDS", "CONTEXT")
        .containsPattern("UPDATE\\s+shop\\.orders\\s+\\d+\\s+status: pending → paid\\s+user_id=payments-webhook")
        .contains("✓ 8 changes recorded")
        .contains("was not recorded")
        .doesNotContain("✗")
        // not a terminal: plain text, and no password anywhere without --keep
        .doesNotContain("\u001b[")
        .doesNotContainPattern(URL_WITH_PASSWORD);
  }

  static void assertRecordedShopTraffic(List<RecordedChanges.Row> rows) {
    assertThat(rows).extracting(r -> r.operation() + " " + r.table()).containsExactly(
        "CREATE shop.customers",
        "CREATE shop.products",
        "CREATE shop.products",
        "CREATE shop.orders",
        "UPDATE shop.products",
        "UPDATE shop.orders",
        "UPDATE shop.customers",
        "DELETE shop.products");
    // the login touched only customers.last_login_at, which the TrackingPolicy ignores
    assertThat(rows).noneMatch(r -> ShopDatabase.LOGIN_ENDPOINT.equals(r.context().get("endpoint")));
    RecordedChanges.Row profile = rows.get(6);
    assertThat(profile.fields()).containsKeys("email", "last_login_at");
    assertThat(profile.context()).containsEntry("endpoint", "PATCH /profile").containsKey("user_id");
    // the context comes from the Bemi comment of each statement, through the operator-installed triggers
    assertThat(rows.get(0).context()).containsExactly(java.util.Map.entry("endpoint", "POST /signup"));
    assertThat(rows.get(3).context()).containsEntry("endpoint", "POST /orders")
        .containsEntry("user_id", rows.get(0).key());
    assertThat(rows.get(4).context()).containsEntry("endpoint", "POST /orders");
    assertThat(rows.get(5).fields()).containsExactly(java.util.Map.entry("status", "pending → paid"));
    assertThat(rows.get(7).context()).containsEntry("user_id", "admin");
    // the import script sent no comment: no context
    assertThat(rows.subList(1, 3)).allSatisfy(r -> assertThat(r.context()).isEmpty());
  }

  @Test
  void keepLeavesThePipelineRunningWithPsqlUrlsUntilStopped() throws Exception {
    Run run = new Run();
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> run.execute("demo", "--keep"));
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
        .until(() -> run.out.toString().contains("Press Ctrl+C") || exit.isDone());
    String out = run.out.toString();
    assertThat(exit).as("still running; output:%n%s", out).isNotDone();
    ConnectionSettings shop = settings(urlAfter(out, "shop (source)"));
    ConnectionSettings audit = settings(urlAfter(out, "audit (destination)"));
    assertThat(shop.user()).isEqualTo("shop_admin");
    assertThat(audit.user()).isEqualTo("audit_writer");

    // the worker still streams: a change written now is recorded, with its context
    try (Connection c = PgConnections.open(shop); Statement s = c.createStatement()) {
      s.execute("INSERT INTO shop.customers (name, email) VALUES ('Grace Hopper', 'grace@example.com')"
          + ShopDatabase.bemi(java.util.Map.of("user_id", "grace")));
    }
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200)).until(() ->
        RecordedChanges.read(audit).stream().anyMatch(r -> "grace".equals(r.context().get("user_id"))));

    run.demo().stop.countDown();
    assertThat(exit.get(60, java.util.concurrent.TimeUnit.SECONDS)).isZero();
    assertThat(run.out.toString()).contains("==> Stopping");
    // everything was stopped: the embedded server no longer accepts connections
    assertThat(canConnect(audit)).isFalse();
  }

  @ParameterizedTest
  @MethodSource("io.pgtrail.testing.PgVersion#enabled")
  void sourceUrlUsesAnExistingDatabaseAndLeavesNoSlotBehind(PgVersion version, @TempDir Path tmp) throws Exception {
    LocalPostgres server = TestPostgres.shared(version);
    ConnectionSettings db = TestPostgres.newDatabase(server, "demo_source");
    String user = "demo_app_" + ProcessHandle.current().pid() + "_" + version.major();
    String password = "Pw-" + UUID.randomUUID();
    server.execute(db.database(), "DROP ROLE IF EXISTS " + user,
        "CREATE ROLE " + user + " LOGIN SUPERUSER PASSWORD '" + password + "'");
    Path passwordFile = Files.writeString(tmp.resolve("password"), password + "\n");
    String url = "postgresql://" + user + "@127.0.0.1:" + server.port() + "/" + db.database() + "?sslmode=disable";

    Run run = new Run();
    int exit = run.execute("demo", "--source-url", url, "--source-password-file", passwordFile.toString());
    String out = run.out.toString();

    assertThat(exit).as("exit code; output:%n%s%nerr:%n%s", out, run.err).isZero();
    assertThat(out).contains("PostgreSQL " + version.major()).doesNotContain(password);
    assertRecordedShopTraffic(run.demo().recorded);
    // deleting the SourceDatabase (reclaimPolicy delete) dropped what pgtrail created in the source
    assertThat(strings(db, "SELECT slot_name FROM pg_replication_slots WHERE database = current_database()")).isEmpty();
    assertThat(strings(db, "SELECT pubname FROM pg_publication")).isEmpty();
  }

  @Test
  void aSourceThatCannotBecomeReadyEndsWithItsConditionsAndExitCode1(@TempDir Path tmp) throws Exception {
    try (LocalPostgres replicaOnly = TestPostgres.start(PgVersion.primary(), b -> b.walLevel("replica"))) {
      String password = "Pw-" + UUID.randomUUID();
      replicaOnly.execute("postgres", "CREATE ROLE app LOGIN SUPERUSER PASSWORD '" + password + "'");
      replicaOnly.createDatabase("app");
      Path passwordFile = Files.writeString(tmp.resolve("password"), password);
      Run run = new Run();
      int exit = run.execute("demo", "--timeout", "12", "--source-url",
          "postgresql://app@127.0.0.1:" + replicaOnly.port() + "/app?sslmode=disable",
          "--source-password-file", passwordFile.toString());
      String out = run.out.toString();

      assertThat(exit).as(out).isEqualTo(1);
      assertThat(out).contains("✗ SourceDatabase demo/shop did not become Ready within 12 s")
          .containsPattern("✗ WalLevelLogical\\s+\\S+\\s+.*wal_level")
          .contains("==> Stopping")
          .doesNotContain(password);
    }
  }

  @Test
  void wrongUsageExitsWith2() {
    Run run = new Run();
    assertThat(run.execute("demo", "--source-password-file", "/nonexistent")).isEqualTo(2);
    assertThat(run.err.toString()).contains("--source-password-file needs --source-url");
    Run bad = new Run();
    assertThat(bad.execute("demo", "--source-url", "mysql://x@y/z")).isEqualTo(2);
    assertThat(bad.err.toString()).contains("postgresql://");
  }

  private static String urlAfter(String out, String label) {
    Matcher m = Pattern.compile(Pattern.quote(label) + "\\s+(postgresql://\\S+)").matcher(out);
    assertThat(m.find()).as("%s URL in%n%s", label, out).isTrue();
    assertThat(m.group(1)).matches(URL_WITH_PASSWORD);
    return m.group(1);
  }

  private static ConnectionSettings settings(String url) {
    return ConnectionSettings.parse(url + "?sslmode=disable");
  }

  private static boolean canConnect(ConnectionSettings settings) {
    try (Connection ignored = PgConnections.open(settings)) {
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static List<String> strings(ConnectionSettings db, String sql) throws Exception {
    try (Connection c = PgConnections.open(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      List<String> values = new java.util.ArrayList<>();
      while (rs.next()) {
        values.add(rs.getString(1));
      }
      return values;
    }
  }
}
