package io.pgtrail.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.pgtrail.Main;
import io.pgtrail.api.v1alpha1.LocalObjectRef;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.reconciler.trackingpolicy.TrackingPolicyReconciler;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Leader Lease, health and metrics endpoints, watched namespaces, graceful stop, the CLI entry. */
class OperatorProcessTest {
  OperatorHarness harness;
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() {
    harness = new OperatorHarness().startOperator();
  }

  @AfterEach
  void stop() {
    harness.close();
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + harness.operator().httpPort() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static TrackingPolicy orphanPolicy(String namespace) {
    TrackingPolicy p = new TrackingPolicy();
    p.setMetadata(new ObjectMetaBuilder().withName("p").withNamespace(namespace).build());
    p.setSpec(new TrackingPolicySpec());
    p.getSpec().sourceRef = new LocalObjectRef("missing");
    return p;
  }

  @Test
  void holdsTheLeaseServesHealthAndMetricsAndStopsCleanly() throws Exception {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Lease lease = harness.client().resources(Lease.class).inNamespace(MockCluster.NAMESPACE)
          .withName("pgtrail-operator").get();
      assertThat(lease).isNotNull();
      assertThat(lease.getSpec().getHolderIdentity()).isNotBlank();
    });
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(10)).until(() -> harness.operator().isLeading());
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(get("/readyz").statusCode()).isEqualTo(200));

    harness.apply(orphanPolicy(MockCluster.NAMESPACE));
    harness.awaitPolicy("p", "Ready", "False", "SourceNotFound");
    HttpResponse<String> metrics = get("/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("pgtrail_operator_reconciliations_total{controller=\"trackingpolicy\"}")
        .contains("jvm_memory_used_bytes");

    int port = harness.operator().httpPort();
    harness.stopOperator();
    assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString())).isInstanceOf(Exception.class);
  }

  @Test
  void resourcesOutsideTheWatchedNamespacesAreLeftAlone() {
    harness.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName("elsewhere")
        .endMetadata().build()).create();
    TrackingPolicy outside = harness.client().resource(orphanPolicy("elsewhere")).create();
    harness.apply(orphanPolicy(MockCluster.NAMESPACE));
    harness.awaitPolicy("p", "Ready", "False", "SourceNotFound");
    // the watched orphan retries every second; had the one outside been watched too, it would have been
    // reconciled by now (it was created first)
    harness.awaitMoreReconciliations(TrackingPolicyReconciler.NAME, 3);
    assertThat(harness.client().resource(outside).get().getStatus().conditions).isEmpty();
  }

  @Test
  void aSecondReplicaStandsByReadyUntilTheLeaseIsFree() throws Exception {
    await().atMost(Duration.ofSeconds(10)).until(() -> harness.operator().isLeading());
    OperatorOptions options = OperatorOptions.defaults().withHttpPort(0)
        .withWatchNamespaces(java.util.Set.of(MockCluster.NAMESPACE))
        .withLeaderElection(true, MockCluster.NAMESPACE);
    try (var client = harness.cluster.newClient();
        PgtrailOperator standby = new PgtrailOperator(client, options).start()) {
      var response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + standby.httpPort() + "/readyz"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.body()).contains("standby");
      assertThat(standby.isLeading()).isFalse();
    }
  }

  @Test
  void theOperatorSubcommandIsRegistered() {
    assertThat(Main.run("operator", "--help")).isZero();
  }
}
