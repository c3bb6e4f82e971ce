package io.pgtrail.docs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.pgtrail.api.v1alpha1.ProviderSpec;
import io.pgtrail.api.v1alpha1.status.ConditionType;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.preflight.CheckId;
import io.pgtrail.ssh.SshTunnelException;
import io.pgtrail.worker.sink.FailureClass;
import io.pgtrail.worker.sink.GapRecords;
import java.io.IOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The docs follow the code: every reason the code can set, every check id, metric, printer column,
 * provider and example is documented, and the docs name no reason, check or metric that does not
 * exist. README.md stays a front door.
 */
class DocsDriftTest {
  private static final Pattern BACKTICKED = Pattern.compile("`([^`]+)`");
  private static final Pattern WORKER_STATE_REASON =
      Pattern.compile("(?:new GapStop\\(|State\\.[A-Z]+, )\"([A-Za-z]+)\"");
  private static final Pattern SETUP_REASON = Pattern.compile("new SetupException\\(\"([A-Za-z]+)\"");
  private static final Pattern CAMEL_CASE = Pattern.compile("\\b[A-Z][a-z]+(?:[A-Z][a-z0-9]*)+\\b");
  private static final Pattern METRIC = Pattern.compile("\\bpgtrail_[a-z0-9_]+");
  private static final Pattern METRIC_BUILDER = Pattern.compile("\\.name\\(\"(pgtrail_[a-z0-9_]+)\"\\)");

  @Test
  void theReadmeIsAFrontDoor() {
    assertThat(DocFiles.read("README.md").lines().count()).as("README.md lines").isLessThanOrEqualTo(250);
  }

  @Test
  void everyReasonTheCodeCanSetIsInTroubleshootingAndNothingElseIs() throws IOException {
    Set<String> reasons = reasonsTheCodeCanSet();
    String troubleshooting = DocFiles.read("docs/troubleshooting.md");
    Set<String> documented = backticked(troubleshooting);
    assertThat(documented).as("reasons missing from docs/troubleshooting.md").containsAll(reasons);

    Set<String> tableReasons = new TreeSet<>();
    troubleshooting.lines().filter(line -> line.startsWith("| `"))
        .forEach(line -> backticked(line.split("\\|")[1]).stream().filter(token -> token.matches("[A-Z][A-Za-z]+"))
            .forEach(tableReasons::add));
    assertThat(tableReasons).as("reasons in docs/troubleshooting.md tables that the code never sets")
        .isSubsetOf(reasons);
  }

  @Test
  void examplesNameOnlyReasonsThatExist() throws IOException {
    Set<String> known = new TreeSet<>(reasonsTheCodeCanSet());
    known.addAll(conditionTypes());
    known.addAll(List.of("PostgreSQL", "PgBouncer", "SourceDatabase", "TrackingPolicy", "TimescaleDB", "DigitalOcean",
        "ConfigMap", "NetworkPolicy", "ServiceMonitor", "SupaVisor", "GitOps"));
    try (Stream<Path> files = Files.walk(DocFiles.root().resolve("k8s-examples"))) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
        for (String line : Files.readAllLines(file)) {
          if (line.strip().startsWith("#")) {
            Matcher m = CAMEL_CASE.matcher(line);
            while (m.find()) {
              assertThat(known).as(file + " names " + m.group()).contains(m.group());
            }
          }
        }
      }
    }
  }

  @Test
  void theCheckTableListsEveryCheckInOrderWithItsReason() {
    List<String[]> rows = DocFiles.read("docs/cli.md").lines()
        .filter(line -> line.matches("\\| `[a-z-]+` \\| `[A-Za-z]+` \\|.*"))
        .map(line -> line.split("\\|"))
        .toList();
    assertThat(rows.stream().map(r -> strip(r[1])).toList()).as("check ids in docs/cli.md")
        .containsExactlyElementsOf(Arrays.stream(CheckId.values()).map(CheckId::id).toList());
    assertThat(rows.stream().map(r -> strip(r[2])).toList()).as("their reasons")
        .containsExactlyElementsOf(Arrays.stream(CheckId.values()).map(CheckId::reason).toList());
  }

  @Test
  void docsNameOnlyCheckIdsThatExist() {
    Set<String> ids = new TreeSet<>(Arrays.stream(CheckId.values()).map(CheckId::id).toList());
    String all = DocFiles.all();
    for (String stale : List.of("replication-right", "publication-right", "event-trigger-right")) {
      assertThat(all).as("a check id that does not exist").doesNotContain("`" + stale + "`");
    }
    assertThat(all).contains(ids.stream().map(id -> "`" + id + "`").toList());
  }

  @Test
  void everyMetricIsDocumentedAndEveryDocumentedMetricExists() throws IOException {
    Set<String> metrics = metricNames();
    String doc = DocFiles.read("docs/metrics.md");
    assertThat(backticked(doc)).as("metrics missing from docs/metrics.md").containsAll(metrics);
    Set<String> tableMetrics = new TreeSet<>();
    doc.lines().filter(line -> line.startsWith("| `pgtrail_")).forEach(line -> tableMetrics.add(strip(line.split("\\|")[1])));
    assertThat(tableMetrics).as("metric rows in docs/metrics.md").isEqualTo(metrics);
    Matcher m = METRIC.matcher(DocFiles.all());
    Set<String> named = new TreeSet<>();
    while (m.find()) {
      named.add(m.group());
    }
    named.removeIf(name -> name.startsWith("pgtrail_progress") || name.startsWith("pgtrail_reader")
        || name.startsWith("pgtrail_shop") || name.startsWith("pgtrail_orders") || name.startsWith("pgtrail_dead")
        || name.startsWith("pgtrail_set_aside") || name.startsWith("pgtrail_ri_") || name.startsWith("pgtrail_staging")
        || name.equals("pgtrail_keys"));
    assertThat(metrics).as("pgtrail_* names in the docs that are no metric (or table name)").containsAll(named);
  }

  @Test
  void printerColumnsAreDocumentedInTheOrderKubectlShowsThem() throws IOException {
    JsonNode crd = new YAMLMapper().readTree(DocFiles.root().resolve("crds/sourcedatabases.pgtrail.io-v1.yml").toFile());
    List<String> columns = new ArrayList<>(List.of("NAME"));
    crd.at("/spec/versions/0/additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText().toUpperCase()));
    assertThat(DocFiles.read("README.md")).contains("get sourcedatabases   # " + String.join(" ", columns));
  }

  @Test
  void everyProviderAndExampleIsDocumented() throws IOException {
    String readme = DocFiles.read("README.md");
    String providers = DocFiles.read("docs/providers.md");
    for (ProviderSpec provider : ProviderSpec.values()) {
      assertThat(readme).as("README provider table").contains("| `" + provider.id() + "` |");
      assertThat(providers).as("docs/providers.md").contains("(`" + provider.id() + "`)");
    }
    try (Stream<Path> files = Files.list(DocFiles.root().resolve("k8s-examples/providers"))) {
      for (Path file : files.toList()) {
        assertThat(readme).contains("(k8s-examples/providers/" + file.getFileName() + ")");
        assertThat(providers).contains("(../k8s-examples/providers/" + file.getFileName() + ")");
      }
    }
  }

  @Test
  void theReadmeLinksOnlyToFilesThatExist() {
    Matcher link = Pattern.compile("\\]\\(([^)#]+)(#[^)]*)?\\)").matcher(DocFiles.read("README.md"));
    int checked = 0;
    while (link.find()) {
      String target = link.group(1);
      if (!target.startsWith("http")) {
        assertThat(DocFiles.root().resolve(target)).as("README link " + target).exists();
        checked++;
      }
    }
    assertThat(checked).as("local links found in README.md (none: the pattern no longer matches them)").isPositive();
  }

  static Set<String> reasonsTheCodeCanSet() throws IOException {
    Set<String> reasons = new TreeSet<>();
    Arrays.stream(Reason.values()).map(Reason::camelCase).forEach(reasons::add);
    Arrays.stream(CheckId.values()).map(CheckId::reason).forEach(reasons::add);
    Arrays.stream(PgConnectException.Reason.values()).map(PgConnectException.Reason::camelCase).forEach(reasons::add);
    Arrays.stream(SshTunnelException.Reason.values()).map(SshTunnelException.Reason::camelCase).forEach(reasons::add);
    reasons.addAll(inMainSources(SETUP_REASON));
    reasons.addAll(workerStateReasons());
    return reasons;
  }

  /**
   * What the worker writes as {@code pgtrail_progress.state_reason}, which the operator shows as the
   * reason of {@code WorkerStreaming}: gap stops, a requested stop, and failure classes (a source
   * failure is prefixed {@code Source}, a permanent one is {@code SourceFailed}).
   */
  static Set<String> workerStateReasons() throws IOException {
    Set<String> reasons = new TreeSet<>(inMainSources(WORKER_STATE_REASON));
    Arrays.stream(GapRecords.Reason.values()).map(Enum::name).forEach(reasons::add);
    for (FailureClass failure : FailureClass.values()) {
      reasons.add(failure.label());
      if (failure.isTransient()) {
        reasons.add("Source" + failure.label());
      }
    }
    reasons.add("SourceFailed");
    return reasons;
  }

  private static Set<String> conditionTypes() {
    Set<String> types = new TreeSet<>();
    for (var field : ConditionType.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class) {
        try {
          types.add((String) field.get(null));
        } catch (IllegalAccessException e) {
          throw new AssertionError(e);
        }
      }
    }
    return types;
  }

  /** Every metric a builder in the main sources registers: {@code .name("pgtrail_...")}. */
  static Set<String> metricNames() throws IOException {
    return inMainSources(METRIC_BUILDER);
  }

  /** The first group of every match of {@code pattern} in the main Java sources. */
  private static Set<String> inMainSources(Pattern pattern) throws IOException {
    Set<String> found = new TreeSet<>();
    try (Stream<Path> sources = Files.walk(DocFiles.root().resolve("src/main/java"))) {
      for (Path source : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = pattern.matcher(Files.readString(source));
        while (m.find()) {
          found.add(m.group(1));
        }
      }
    }
    return found;
  }

  private static Set<String> backticked(String text) {
    Set<String> tokens = new LinkedHashSet<>();
    Matcher m = BACKTICKED.matcher(text);
    while (m.find()) {
      tokens.add(m.group(1));
    }
    return tokens;
  }

  private static String strip(String cell) {
    return cell.strip().replace("`", "");
  }
}
