package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WorkerConfigTest {
  private static final String MINIMAL = """
      source: { url: "postgresql://app@db.example:5432/shop?sslmode=require" }
      slot: pgtrail_orders
      publication: pgtrail_orders
      destination: { url: "postgresql://audit@audit.example/audit" }
      """;

  @Test
  void readsTheDocumentedKeysWithDefaults() {
    WorkerConfig config = WorkerConfig.parse(MINIMAL + """
        ignoreColumns: [ "orders.updated_at", "*.updated_at" ]
        metrics: { port: 0 }
        batch: { maxRows: 100, maxDelayMs: 50 }
        """);

    assertThat(config.slot()).isEqualTo("pgtrail_orders");
    assertThat(config.ignoreColumns()).containsExactly("orders.updated_at", "*.updated_at");
    assertThat(config.metrics().portOrDefault()).isZero();
    assertThat(config.batch().maxRowsOrDefault()).isEqualTo(100);
    assertThat(config.batch().maxDelay().toMillis()).isEqualTo(50);
    assertThat(WorkerConfig.parse(MINIMAL).metrics().portOrDefault()).isEqualTo(9090);
    assertThat(WorkerConfig.parse(MINIMAL).batch().maxRowsOrDefault()).isEqualTo(5000);
  }

  @Test
  void batchBytesStallTimeAndGapPolicyHaveDefaultsAndLimits() {
    WorkerConfig defaults = WorkerConfig.parse(MINIMAL);
    assertThat(defaults.batch().maxBytesOrDefault()).isEqualTo(16L * 1024 * 1024);
    assertThat(defaults.health().stallAfter().toSeconds()).isEqualTo(60);
    assertThat(defaults.onGapOrDefault()).isEqualTo(WorkerConfig.OnGap.STOP);

    WorkerConfig set = WorkerConfig.parse(MINIMAL
        + "batch: { maxBytes: 1048576 }\nhealth: { stallAfterMs: 5000 }\nonGap: continue\n");
    Worker.Settings settings = Worker.Settings.from(set, Map.of());
    assertThat(settings.batchMaxBytes()).isEqualTo(1_048_576);
    assertThat(settings.stallAfter().toMillis()).isEqualTo(5000);
    assertThat(settings.onGap()).isEqualTo(WorkerConfig.OnGap.CONTINUE);

    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "onGap: skip\n"))
        .hasMessageContaining("onGap must be stop or continue, got 'skip'");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "batch: { maxBytes: 10 }\n"))
        .hasMessageContaining("batch.maxBytes must be at least 1024");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "health: { stallAfterMs: 10 }\n"))
        .hasMessageContaining("health.stallAfterMs must be at least 1000");
  }

  @Test
  void passwordsComeFromFilesOrTheEnvironmentNeverFromTheYaml(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pw");
    Files.writeString(file, "from-file\n");
    WorkerConfig config = WorkerConfig.parse(MINIMAL.replace("sslmode=require\" }",
        "sslmode=require\", passwordFile: \"" + file + "\" }"));

    assertThat(config.sourceSettings(Map.of("PGPASSWORD", "generic")).password()).isEqualTo("from-file");
    assertThat(config.destinationSettings(Map.of("PGPASSWORD", "generic")).password()).isEqualTo("generic");
    assertThat(config.destinationSettings(Map.of("PGPASSWORD", "generic",
        WorkerConfig.DESTINATION_PASSWORD_ENV, "specific")).password()).isEqualTo("specific");
    assertThat(config.destinationSettings(Map.of()).hasPassword()).isFalse();

    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL.replace("app@db", "app:secret@db")))
        .hasMessageContaining("source.url contains a password")
        .hasMessageContaining(WorkerConfig.SOURCE_PASSWORD_ENV)
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL.replace("sslmode=require\" }",
        "sslmode=require\", passwordFile: /nope }")).sourceSettings(Map.of()))
        .hasMessageContaining("source.passwordFile /nope does not exist");
  }

  @Test
  void unknownKeysAreRejectedByName() {
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "slots: x\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown key 'slots'")
        .hasMessageContaining("publication");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL.replace("{ url: \"postgresql://audit",
        "{ password: x, url: \"postgresql://audit")))
        .hasMessageContaining("unknown key 'password' under 'destination'")
        .hasMessageContaining("passwordFile");
  }

  @Test
  void invalidValuesGetAClearAnswer() {
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL.replace("slot: pgtrail_orders", "slot: Bad-Name")))
        .hasMessageContaining("slot");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL.replace("slot: pgtrail_orders\n", "")))
        .hasMessageContaining("needs 'slot'");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "ignoreColumns: [ justacolumn ]\n"))
        .hasMessageContaining("ignoreColumns entry 'justacolumn'");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "metrics: { port: 70000 }\n"))
        .hasMessageContaining("metrics.port");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL + "metrics: { port: many }\n"))
        .hasMessageContaining("metrics.port");
    assertThatThrownBy(() -> WorkerConfig.parse(MINIMAL.replace("postgresql://audit@", "mysql://audit@")))
        .hasMessageContaining("destination.url");
    assertThatThrownBy(() -> WorkerConfig.parse("")).hasMessageContaining("empty");
  }

  @Test
  void theWorkerCommandExitsWithTwoOnABadConfig(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("worker.yaml");
    Files.writeString(file, MINIMAL + "surprise: true\n");
    java.io.PrintStream original = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(err, true));
    try {
      assertThat(io.pgtrail.Main.run("worker", "--config", file.toString())).isEqualTo(2);
      assertThat(io.pgtrail.Main.run("worker", "--config", dir.resolve("missing.yaml").toString())).isEqualTo(2);
    } finally {
      System.setErr(original);
    }
    assertThat(err.toString()).contains("unknown key 'surprise'").contains("missing.yaml does not exist");
  }
}
