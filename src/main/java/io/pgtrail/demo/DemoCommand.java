package io.pgtrail.demo;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.operator.OperatorOptions;
import io.pgtrail.operator.PgtrailOperator;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.Passwords;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.reconciler.sourcedatabase.WorkerResources;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pgtrail demo}: the whole pipeline on one machine. Embedded PostgreSQL (a shop database and an
 * audit database), an in-process Kubernetes API with the operator running against it, the manifests of
 * {@code k8s-examples/demo/} applied, the worker run in-process from what the operator rendered (this
 * command stands in for the kubelet), sample traffic with Bemi context, and the recorded changes shown.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Run the whole pipeline on this machine (embedded PostgreSQL, an in-process Kubernetes API,"
        + " the operator and a worker), write sample traffic and show the recorded changes. No cluster, no Docker.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the changes were recorded", "1:the pipeline failed (the message says where)",
        "2:wrong usage (bad --source-url, unreadable password file)"})
public final class DemoCommand implements Callable<Integer> {
  static final String NAMESPACE = "demo";
  private static final String SOURCE_USER = "shop_admin";
  private static final String DESTINATION_USER = "audit_writer";

  @Option(names = "--keep", description = "Keep everything running and print psql connection URLs; Ctrl+C stops.")
  boolean keep;

  @Option(names = "--source-url", paramLabel = "URL", description = "Use this existing database as the source"
      + " instead of the embedded one: postgresql://USER@HOST:PORT/DB[?sslmode=...] (wal_level logical, a user that"
      + " may replicate and create a publication). The demo creates schema shop there and, on exit, drops the slot"
      + " and publication. The password comes from --source-password-file or PGPASSWORD.")
  String sourceUrl;

  @Option(names = "--source-password-file", paramLabel = "FILE", description = "File holding the source password.")
  Path sourcePasswordFile;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "60",
      description = "How long to wait for each step (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--verbose", description = "Show the operator's, worker's and servers' logs (stderr).")
  boolean verbose;

  @Spec CommandSpec spec;

  /** What the last run recorded (for tests). */
  volatile List<RecordedChanges.Row> recorded = List.of();
  /** Set when --keep is waiting; counting it down ends the demo (for tests; Ctrl+C does the same). */
  final CountDownLatch stop = new CountDownLatch(1);

  private Terminal terminal;
  private LocalKubernetes kubernetes;
  private final SecureRandom random = new SecureRandom();

  @Override
  public Integer call() {
    terminal = Terminal.detect(spec.commandLine().getOut());
    ConnectionSettings externalSource;
    try {
      if (timeoutSeconds < 1) {
        throw new IllegalArgumentException("--timeout must be at least 1 second");
      }
      externalSource = externalSource();
    } catch (IllegalArgumentException | IOException e) {
      spec.commandLine().getErr().println("pgtrail demo: " + e.getMessage());
      return 2;
    }
    long started = System.nanoTime();
    Cleanup cleanup = new Cleanup(terminal);
    Thread onCtrlC = new Thread(cleanup::close, "pgtrail-demo-cleanup");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    try (LogLevels logs = verbose ? LogLevels.unchanged() : LogLevels.errorsOnly()) {
      try {
        return run(cleanup, externalSource, started);
      } catch (DemoFailure e) {
        terminal.println(terminal.red("✗ " + e.getMessage()));
        printConditionsIfAny();
        return 1;
      } catch (PgConnectException e) {
        terminal.println(terminal.red("✗ cannot connect: " + e.getMessage()));
        printConditionsIfAny();
        return 1;
      } catch (SQLException | IOException | RuntimeException e) {
        terminal.println(terminal.red("✗ the demo failed: " + e.getClass().getSimpleName()
            + (e.getMessage() == null ? "" : ": " + e.getMessage())));
        printConditionsIfAny();
        return 1;
      } finally {
        terminal.step("Stopping the worker, the operator, the Kubernetes API and PostgreSQL");
        cleanup.close();
      }
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl+C: the hook is running the cleanup
      }
    }
  }

  private ConnectionSettings externalSource() throws IOException {
    if (sourceUrl == null) {
      if (sourcePasswordFile != null) {
        throw new IllegalArgumentException("--source-password-file needs --source-url");
      }
      return null;
    }
    ConnectionSettings settings = Passwords.resolve(ConnectionSettings.parse(sourceUrl), sourcePasswordFile,
        "PGPASSWORD", System.getenv());
    if (!settings.hasPassword()) {
      throw new IllegalArgumentException("--source-url needs a password: --source-password-file FILE or PGPASSWORD"
          + " (the operator reads it from a Secret, as in a cluster)");
    }
    return settings;
  }

  private int run(Cleanup cleanup, ConnectionSettings externalSource, long started)
      throws SQLException, IOException, PgConnectException {
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    Path work = Files.createTempDirectory("pgtrail-demo-");
    cleanup.add("temporary files", () -> Kubelet.deleteQuietly(work));

    terminal.step(externalSource == null ? "Starting PostgreSQL (embedded): a shop database and an audit database"
        : "Starting PostgreSQL (embedded) for the audit database; the shop is " + externalSource.redacted());
    LocalPostgres postgres = cleanup.add("PostgreSQL", LocalPostgres.builder().dataDirectory(work.resolve("pg"))
        // bounded WAL retention, as the operator's preflight recommends for every source
        .serverConfig("max_slot_wal_keep_size", "1GB")
        .start());
    ConnectionSettings source = externalSource != null ? externalSource : createShopDatabase(postgres);
    ConnectionSettings destination = createAuditDatabase(postgres);
    ShopDatabase shop = new ShopDatabase(source);
    shop.create();

    terminal.step("Starting an in-process Kubernetes API and the pgtrail operator");
    kubernetes = cleanup.add("the Kubernetes API", LocalKubernetes.start());
    kubernetes.createNamespace(NAMESPACE);
    KubernetesClient operatorClient = cleanup.add("the operator's client", kubernetes.newClient());
    cleanup.add("the operator", new PgtrailOperator(operatorClient, operatorOptions()).start());

    terminal.step("Applying k8s-examples/demo/ (Secrets, TrackingPolicy shop, SourceDatabase shop)");
    DemoManifests manifests = DemoManifests.load().pointedAt(source, destination);
    if (externalSource != null) {
      // runs after the worker stopped and before the operator stops: the operator drops slot and publication
      cleanup.add("SourceDatabase shop", () -> deleteSource(manifests.source, timeout));
    }
    manifests.apply(kubernetes, NAMESPACE);
    Kubelet kubelet = cleanup.add("the worker", new Kubelet(kubernetes, NAMESPACE,
        WorkerResources.deploymentName(manifests.source), work).start());

    terminal.step("Waiting for SourceDatabase shop to become Ready (the worker runs in-process)");
    long applied = System.nanoTime();
    if (!Waits.until(timeout, () -> ready(manifests, kubelet))) {
      throw new DemoFailure("SourceDatabase " + NAMESPACE + "/shop did not become Ready within " + timeoutSeconds
          + " s; " + kubelet.describe());
    }
    terminal.println(terminal.dim("    Ready " + seconds(System.nanoTime() - applied) + " after apply"));

    terminal.step("Writing sample traffic, some of it with /*Bemi {...} Bemi*/ context comments");
    ShopDatabase.Traffic traffic = shop.writeTraffic();
    terminal.step("Waiting for the worker to record the changes in audit.changes");
    // the traffic ends with a DELETE on products: once it is recorded, everything before it is too
    if (!Waits.until(timeout, () -> lastChangeRecorded(destination))) {
      throw new DemoFailure("the worker did not record the changes within " + timeoutSeconds + " s; "
          + kubelet.describe());
    }
    recorded = RecordedChanges.read(destination);

    terminal.println();
    printConditions(source(manifests.source.getMetadata().getName()));
    terminal.println();
    terminal.println(terminal.bold("Recorded changes") + terminal.dim(" (audit database, table changes)"));
    RecordedChanges.print(terminal, recorded);
    terminal.println();
    boolean asExpected = printFindings(traffic);
    terminal.println(terminal.dim("Done in " + seconds(System.nanoTime() - started) + "."));
    if (keep) {
      printConnectionUrls(postgres, source, destination, externalSource != null);
      awaitStop();
    }
    return asExpected ? 0 : 1;
  }

  private ConnectionSettings createShopDatabase(LocalPostgres postgres) {
    String password = newPassword();
    // a superuser, as a self-managed database's admin: REPLICATION, TABLES IN SCHEMA publications, triggers
    postgres.execute("postgres", "CREATE ROLE " + SOURCE_USER + " LOGIN SUPERUSER PASSWORD " + Identifiers.literal(password),
        "CREATE DATABASE shop OWNER " + SOURCE_USER);
    return postgres.as("shop", SOURCE_USER, password);
  }

  private ConnectionSettings createAuditDatabase(LocalPostgres postgres) {
    String password = newPassword();
    postgres.execute("postgres", "CREATE ROLE " + DESTINATION_USER + " LOGIN PASSWORD " + Identifiers.literal(password),
        "CREATE DATABASE audit OWNER " + DESTINATION_USER);
    return postgres.as("audit", DESTINATION_USER, password);
  }

  private String newPassword() {
    byte[] bytes = new byte[18];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static OperatorOptions operatorOptions() {
    return OperatorOptions.defaults()
        .withHttpPort(0)
        .withLeaderElection(false, OperatorOptions.DEFAULT_LEASE_NAMESPACE)
        .withWatchNamespaces(Set.of(NAMESPACE))
        .withIntervals(Duration.ofSeconds(60), Duration.ofSeconds(2), Duration.ofSeconds(30))
        .withReconcileThreads(2);
  }

  private SourceDatabase source(String name) {
    return kubernetes.client().resources(SourceDatabase.class).inNamespace(NAMESPACE).withName(name).get();
  }

  /**
   * Ready for the current generation, with every policy's current generation applied, and the worker
   * streaming from the Deployment's current pod template.
   */
  private boolean ready(DemoManifests manifests, Kubelet kubelet) {
    SourceDatabase s = source(manifests.source.getMetadata().getName());
    if (s == null || s.getStatus() == null || !Objects.equals(s.getStatus().observedGeneration,
        s.getMetadata().getGeneration()) || !conditionTrue(s.getStatus(), "Ready")) {
      return false;
    }
    for (TrackingPolicy policy : manifests.policies) {
      TrackingPolicy current = kubernetes.client().resources(TrackingPolicy.class).inNamespace(NAMESPACE)
          .withName(policy.getMetadata().getName()).get();
      boolean applied = current != null && s.getStatus().appliedPolicies != null && s.getStatus().appliedPolicies
          .stream().anyMatch(p -> p.name.equals(current.getMetadata().getName())
              && Objects.equals(p.generation, current.getMetadata().getGeneration()));
      if (!applied) {
        return false;
      }
    }
    return kubelet.runsCurrentTemplate();
  }

  private static boolean conditionTrue(SourceDatabaseStatus status, String type) {
    return status.conditions != null && status.conditions.stream()
        .anyMatch(c -> type.equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private static boolean lastChangeRecorded(ConnectionSettings destination) {
    try {
      return RecordedChanges.count(destination, "DELETE", ShopDatabase.SCHEMA, "products") > 0;
    } catch (SQLException | PgConnectException e) {
      return false;
    }
  }

  /** Deletes the SourceDatabase and waits until its finalizer ran (slot and publication dropped). */
  private void deleteSource(SourceDatabase manifest, Duration timeout) {
    terminal.println(terminal.dim("    deleting SourceDatabase shop: the operator drops its slot and publication"));
    kubernetes.client().resources(SourceDatabase.class).inNamespace(NAMESPACE)
        .withName(manifest.getMetadata().getName()).delete();
    if (!Waits.until(timeout, () -> source(manifest.getMetadata().getName()) == null)) {
      terminal.println(terminal.yellow("! SourceDatabase shop was not cleaned up within " + timeout.toSeconds()
          + " s; drop the slot and publication pgtrail_demo_shop by hand if they remain"));
    }
  }

  // ---- output -----------------------------------------------------------------------------------

  private void printConditionsIfAny() {
    if (kubernetes == null) {
      return;
    }
    try {
      SourceDatabase s = source("shop");
      if (s != null) {
        printConditions(s);
      }
    } catch (RuntimeException e) {
      // the API is gone: nothing more to show
    }
  }

  private void printConditions(SourceDatabase s) {
    terminal.println(terminal.bold("SourceDatabase " + NAMESPACE + "/" + s.getMetadata().getName())
        + terminal.dim(facts(s.getStatus())));
    List<Condition> conditions = s.getStatus() == null || s.getStatus().conditions == null ? List.of()
        : s.getStatus().conditions;
    if (conditions.isEmpty()) {
      terminal.println("  (no conditions yet: the operator has not reconciled it)");
    }
    int width = conditions.stream().mapToInt(c -> c.getType().length()).max().orElse(0);
    for (Condition c : conditions) {
      String mark = switch (c.getStatus()) {
        case "True" -> terminal.green("✓");
        case "False" -> terminal.red("✗");
        default -> terminal.yellow("?");
      };
      terminal.println("  " + mark + " " + Terminal.pad(c.getType(), width + 2)
          + Terminal.pad(Objects.toString(c.getReason(), ""), 22) + terminal.dim(Objects.toString(c.getMessage(), "")));
    }
  }

  private static String facts(SourceDatabaseStatus status) {
    if (status == null || status.serverVersion == null) {
      return "";
    }
    String tables = status.trackedTables == null || status.trackedTables.isEmpty() ? ""
        : ", tracking " + String.join(", ", status.trackedTables);
    return " (PostgreSQL " + status.serverVersion + tables + ")";
  }

  /** What the recorded changes show, checked against them (not assumed). */
  private boolean printFindings(ShopDatabase.Traffic traffic) {
    long withContext = recorded.stream().filter(r -> !r.context().isEmpty()).count();
    boolean loginRecorded = recorded.stream()
        .anyMatch(r -> ShopDatabase.LOGIN_ENDPOINT.equals(r.context().get("endpoint")));
    return finding(recorded.size() == traffic.recordedChanges(), recorded.size() + " changes recorded ("
            + traffic.recordedChanges() + " expected from the traffic)")
        & finding(!loginRecorded, "the login, an UPDATE of only " + ShopDatabase.IGNORED_COLUMN
            + " (an ignored column), " + (loginRecorded ? "WAS recorded" : "was not recorded"))
        & finding(withContext > 0, withContext + " of " + recorded.size()
            + " changes carry application context from /*Bemi ...*/ comments (the import script sent none)");
  }

  private boolean finding(boolean ok, String text) {
    terminal.println((ok ? terminal.green("✓ ") : terminal.red("✗ ")) + text);
    return ok;
  }

  private void printConnectionUrls(LocalPostgres postgres, ConnectionSettings source, ConnectionSettings destination,
      boolean externalSource) {
    terminal.println();
    terminal.println(terminal.bold("Everything keeps running. Explore with psql:"));
    terminal.println("  shop (source)       " + (externalSource ? source.redacted() : url(source)));
    terminal.println("  audit (destination) " + url(destination));
    terminal.println("  superuser           postgresql://" + LocalPostgres.SUPERUSER + "@127.0.0.1:" + postgres.port()
        + "/postgres");
    terminal.println("  for example:        psql '" + url(destination)
        + "' -c 'SELECT operation, \"table\", primary_key, context FROM changes ORDER BY position'");
    terminal.println("  Kubernetes API      " + kubernetes.client().getMasterUrl()
        + " (in-process mock; namespace " + NAMESPACE + ")");
    terminal.println("Write to the shop tables and watch changes appear. Press Ctrl+C to stop and clean up.");
  }

  /** A psql URL with the demo's own generated password (the point of --keep). */
  private static String url(ConnectionSettings s) {
    return "postgresql://" + enc(s.user()) + ":" + enc(s.password()) + "@" + s.host() + ":" + s.port() + "/"
        + enc(s.database());
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private void awaitStop() {
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static String seconds(long nanos) {
    return String.format(java.util.Locale.ROOT, "%.1f s", nanos / 1e9);
  }
}
