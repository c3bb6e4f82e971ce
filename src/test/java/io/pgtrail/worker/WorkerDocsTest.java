package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.worker.sink.DeadLetterTable;
import io.pgtrail.worker.sink.FailureClass;
import io.pgtrail.worker.sink.GapRecords;
import io.pgtrail.worker.sink.KeysTable;
import io.pgtrail.worker.sink.ProgressTable;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/worker.md, docs/metrics.md, docs/worker-configuration.md and docs/changes-table.md name every metric,
 * failure class, state, config key, gap reason and column the code has.
 */
class WorkerDocsTest {
  private static final Pattern COLUMN = Pattern.compile("[(,]\\s*\"?([a-z_]+)\"?\\s+(text|bigint|bigserial|bytea|integer|timestamptz)");

  private static String read(String file) throws Exception {
    return Files.readString(Path.of("docs", file));
  }

  @Test
  void everyWorkerMetricFailureClassAndStateIsDocumented() throws Exception {
    String worker = read("worker.md");
    WorkerMetrics metrics = new WorkerMetrics();
    metrics.watch(new WorkerStatus(), Duration.ofMinutes(1));
    List<String> names = new ArrayList<>();
    for (MetricSnapshot snapshot : metrics.registry().scrape()) {
      names.add(snapshot.getMetadata().getPrometheusName());
    }
    assertThat(names).hasSizeGreaterThan(10);
    String metricsDoc = read("metrics.md");
    assertThat(names).allSatisfy(name -> assertThat(metricsDoc).contains("`" + name));
    for (FailureClass failure : FailureClass.values()) {
      assertThat(worker).contains("`" + failure.label() + "`");
    }
    for (WorkerStatus.State state : WorkerStatus.State.values()) {
      assertThat(worker).contains("`" + state.value() + "`");
    }
    assertThat(worker).contains("`batch.maxBytes`", "`health.stallAfterMs`", "`onGap`");
    assertThat(read("worker-configuration.md")).contains("`batch.maxBytes`", "`health.stallAfterMs`", "`onGap`");
  }

  @Test
  void theTablesAndGapReasonsAreDocumentedAsCreated() throws Exception {
    String tables = read("changes-table.md");
    for (GapRecords.Reason reason : GapRecords.Reason.values()) {
      assertThat(tables).contains("`" + reason.name() + "`");
    }
    for (String ddl : List.of(ProgressTable.createStatements().get(0), DeadLetterTable.createStatements().get(0),
        KeysTable.createStatements().get(0))) {
      Matcher m = COLUMN.matcher(ddl);
      int columns = 0;
      while (m.find()) {
        columns++;
        assertThat(tables).as("column %s", m.group(1))
            .containsPattern("[\\s(]\"?" + m.group(1) + "\"?\\s+" + m.group(2));
      }
      assertThat(columns).as(ddl).isGreaterThanOrEqualTo(7);
    }
  }
}
