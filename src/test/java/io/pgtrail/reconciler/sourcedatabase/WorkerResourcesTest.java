package io.pgtrail.reconciler.sourcedatabase;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.WorkerSpec;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.worker.WorkerConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkerResourcesTest {
  static final WorkerResources.Endpoint SOURCE = new WorkerResources.Endpoint("db.example.com", 5433, "app",
      "pg trail", "verify-full", "s3cret", "-----BEGIN CERTIFICATE-----\n");
  static final WorkerResources.Endpoint DEST = new WorkerResources.Endpoint("audit", 5432, "audit", "writer",
      "disable", "w-pass", null);
  static final WorkerResources.Inputs INPUTS = new WorkerResources.Inputs("img:1", null, null, 9090, SOURCE, DEST,
      "pgtrail_slot", "pgtrail_pub", List.of("*.updated_at", "orders.note"),
      new WorkerResources.Behaviour(1000, null, null, null, null), null, null, "json");

  static SourceDatabase source() {
    SourceDatabase sdb = new SourceDatabase();
    sdb.setMetadata(new ObjectMetaBuilder().withName("orders").withNamespace("apps").withUid("u-1").build());
    return sdb;
  }

  @Test
  void workerYamlIsWhatTheWorkerReads() throws Exception {
    String yaml = WorkerResources.workerYaml(INPUTS);
    JsonNode doc = new ObjectMapper(new YAMLFactory()).readTree(yaml);
    assertThat(doc.at("/slot").asText()).isEqualTo("pgtrail_slot");
    assertThat(doc.at("/publication").asText()).isEqualTo("pgtrail_pub");
    assertThat(doc.at("/source/passwordFile").asText()).isEqualTo("/etc/pgtrail/source/password");
    assertThat(doc.at("/destination/passwordFile").asText()).isEqualTo("/etc/pgtrail/destination/password");
    assertThat(doc.at("/metrics/port").asInt()).isEqualTo(9090);
    assertThat(doc.at("/batch").toString()).isEqualTo("{\"maxRows\":1000}");
    assertThat(doc.at("/ignoreColumns").toString()).isEqualTo("[\"*.updated_at\",\"orders.note\"]");
    ConnectionSettings source = ConnectionSettings.parse(doc.at("/source/url").asText());
    assertThat(source.user()).isEqualTo("pg trail");
    assertThat(source.port()).isEqualTo(5433);
    assertThat(source.sslMode().libpq()).isEqualTo("verify-full");
    assertThat(source.sslRootCert()).isEqualTo("/etc/pgtrail/source/ca.crt");
    assertThat(ConnectionSettings.parse(doc.at("/destination/url").asText()).sslRootCert()).isNull();
    assertThat(yaml).doesNotContain("s3cret").doesNotContain("w-pass");
  }

  @Test
  void theWorkerAcceptsTheRenderedConfig() {
    var config = WorkerConfig.parse(WorkerResources.workerYaml(INPUTS));
    assertThat(config.slot()).isEqualTo("pgtrail_slot");
    assertThat(config.publication()).isEqualTo("pgtrail_pub");
    assertThat(config.ignoreColumns()).containsExactly("*.updated_at", "orders.note");
    assertThat(config.batch().maxRowsOrDefault()).isEqualTo(1000);
    assertThat(config.metrics().portOrDefault()).isEqualTo(9090);
    assertThat(config.source().passwordFile()).isEqualTo("/etc/pgtrail/source/password");
  }

  @Test
  void theSpecsGapStallAndByteSettingsReachTheWorker() {
    WorkerSpec worker = new WorkerSpec();
    worker.onGap = "continue";
    worker.stallAfterSeconds = 30;
    worker.batch = new WorkerSpec.Batch();
    worker.batch.maxBytes = 1_048_576L;
    var in = new WorkerResources.Inputs("img:1", null, null, 9090, SOURCE, DEST, "pgtrail_slot", "pgtrail_pub",
        List.of(), WorkerResources.Behaviour.of(worker), null, null, "json");

    var config = WorkerConfig.parse(WorkerResources.workerYaml(in));
    assertThat(config.onGapOrDefault()).isEqualTo(WorkerConfig.OnGap.CONTINUE);
    assertThat(config.health().stallAfter()).isEqualTo(java.time.Duration.ofSeconds(30));
    assertThat(config.batch().maxBytesOrDefault()).isEqualTo(1_048_576L);

    var defaults = WorkerConfig.parse(WorkerResources.workerYaml(INPUTS));
    assertThat(defaults.onGapOrDefault()).isEqualTo(WorkerConfig.OnGap.STOP);
  }

  @Test
  void secretCarriesPasswordsAndCaAsData() {
    var secret = WorkerResources.secret(source(), INPUTS);
    assertThat(SecretData.value(secret, "source-password")).contains("s3cret");
    assertThat(SecretData.value(secret, "destination-password")).contains("w-pass");
    assertThat(SecretData.value(secret, "source-ca.crt")).isPresent();
    assertThat(secret.getData()).doesNotContainKey("destination-ca.crt");
    assertThat(secret.getStringData()).isNullOrEmpty();
  }

  @Test
  void deploymentIsHardenedAndMountsWhatTheConfigNames() {
    var d = WorkerResources.deployment(source(), INPUTS, "abc");
    var pod = d.getSpec().getTemplate().getSpec();
    var c = pod.getContainers().get(0);
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(d.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(d.getSpec().getSelector().getMatchLabels()).containsEntry("app.kubernetes.io/instance", "orders");
    assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(d.getSpec().getSelector().getMatchLabels());
    assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("pgtrail.io/config-hash", "abc");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getArgs()).containsExactly("worker", "--config", "/etc/pgtrail/worker.yaml");
    assertThat(c.getVolumeMounts()).extracting(m -> m.getMountPath())
        .contains("/etc/pgtrail/worker.yaml", "/etc/pgtrail/source", "/etc/pgtrail/destination", "/tmp");
    assertThat(pod.getVolumes()).filteredOn(v -> v.getName().equals("source")).singleElement()
        .satisfies(v -> assertThat(v.getSecret().getItems()).extracting(i -> i.getPath())
            .containsExactly("password", "ca.crt"));
    assertThat(c.getResources().getLimits()).containsKey("memory");
  }

  @Test
  void configHashFollowsTheSecretVersionNotItsContent() {
    var v1 = new SecretBuilder().withNewMetadata().withUid("s").withResourceVersion("1").endMetadata().build();
    var v2 = new SecretBuilder().withNewMetadata().withUid("s").withResourceVersion("2").endMetadata().build();
    assertThat(WorkerResources.configHash("a", v1)).isEqualTo(WorkerResources.configHash("a", v1))
        .isNotEqualTo(WorkerResources.configHash("a", v2))
        .isNotEqualTo(WorkerResources.configHash("b", v1));
  }

  @Test
  void podSettingsComeFromTheSourceOverTheChartDefaults() {
    var defaults = new WorkerSpec();
    defaults.priorityClassName = "batch";
    defaults.nodeSelector = java.util.Map.of("pool", "general", "zone", "a");
    defaults.imagePullSecrets = List.of(new io.fabric8.kubernetes.api.model.LocalObjectReference("regcred"));
    defaults.podLabels = java.util.Map.of("team", "platform", "app.kubernetes.io/instance", "spoofed");
    var own = new WorkerSpec();
    own.nodeSelector = java.util.Map.of("pool", "db");
    own.serviceAccountName = "audit";
    own.tolerations = List.of(new io.fabric8.kubernetes.api.model.TolerationBuilder().withKey("dedicated")
        .withOperator("Equal").withValue("db").withEffect("NoSchedule").build());
    own.podAnnotations = java.util.Map.of("cost-center", "42");
    var merged = WorkerResources.podSettings(defaults, own);
    var in = new WorkerResources.Inputs("img:1", null, null, 9090, SOURCE, DEST, "pgtrail_slot", "pgtrail_pub",
        List.of(), WorkerResources.Behaviour.DEFAULTS, null, merged, "json");

    var template = WorkerResources.deployment(source(), in, "abc").getSpec().getTemplate();
    var pod = template.getSpec();
    assertThat(pod.getNodeSelector()).containsExactlyInAnyOrderEntriesOf(java.util.Map.of("pool", "db", "zone", "a"));
    assertThat(pod.getPriorityClassName()).isEqualTo("batch");
    assertThat(pod.getServiceAccountName()).isEqualTo("audit");
    assertThat(pod.getAutomountServiceAccountToken()).isFalse();
    assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).containsExactly("regcred");
    assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
    assertThat(pod.getAffinity()).isNull();
    assertThat(template.getMetadata().getLabels()).containsEntry("team", "platform")
        .containsEntry("app.kubernetes.io/instance", "orders");
    assertThat(template.getMetadata().getAnnotations()).containsEntry("cost-center", "42")
        .containsEntry("pgtrail.io/config-hash", "abc");
    assertThat(pod.getContainers().get(0).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("PGTRAIL_LOG_FORMAT");
      assertThat(e.getValue()).isEqualTo("json");
    });
    assertThat(pod.getContainers().get(0).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("JAVA_TOOL_OPTIONS");
      assertThat(e.getValue().split(" ")).contains("-XX:MaxRAMPercentage=75", "-XX:+ExitOnOutOfMemoryError");
    });
  }
}
