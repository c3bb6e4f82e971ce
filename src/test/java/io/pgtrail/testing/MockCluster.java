package io.pgtrail.testing;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.demo.Kubelet;
import io.pgtrail.demo.LocalKubernetes;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A Kubernetes API for tests: {@link LocalKubernetes} (Fabric8's mock server in CRUD mode with pgtrail's
 * generated CRDs registered, a SelfSubjectRulesReview answer for leader election) in namespace
 * {@value #NAMESPACE}, with its stand-in deployment controller marking worker Deployments available
 * ({@link #workersBecomeAvailable}). No garbage collection: tests assert owner references instead.
 */
public final class MockCluster implements AutoCloseable {
  public static final String NAMESPACE = "apps";

  private final LocalKubernetes kubernetes;
  private final KubernetesClient client;
  private final AtomicBoolean workersAvailable = new AtomicBoolean(true);

  public MockCluster() {
    kubernetes = LocalKubernetes.start();
    client = kubernetes.client();
    kubernetes.createNamespace(NAMESPACE);
    kubernetes.markDeploymentsAvailableWhile(workersAvailable::get);
  }

  public KubernetesClient client() {
    return client;
  }

  /** A fresh client (an operator under test owns and may close it). */
  public KubernetesClient newClient() {
    return kubernetes.newClient();
  }

  /** Whether the simulated deployment controller reports new worker Deployments as available. */
  public void workersBecomeAvailable(boolean available) {
    workersAvailable.set(available);
    if (available) {
      client.apps().deployments().inAnyNamespace().list().getItems().forEach(kubernetes::markAvailable);
    }
  }

  /** A Secret with {@code data} (the mock does not fold stringData into data as the API server does). */
  public Secret createSecret(String name, Map<String, String> values) {
    Map<String, String> data = new LinkedHashMap<>();
    values.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    Secret secret = new SecretBuilder().withNewMetadata().withName(name).withNamespace(NAMESPACE).endMetadata()
        .withData(data).build();
    return client.secrets().inNamespace(NAMESPACE).resource(secret).createOr(existing -> existing.update());
  }

  public List<Event> events(HasMetadata about) {
    return client.v1().events().inNamespace(about.getMetadata().getNamespace()).list().getItems().stream()
        .filter(e -> e.getInvolvedObject() != null
            && about.getMetadata().getName().equals(e.getInvolvedObject().getName())
            && about.getKind().equals(e.getInvolvedObject().getKind()))
        .toList();
  }

  /** A stand-in kubelet that runs the worker of one Deployment in this JVM, from what the operator rendered. */
  public Kubelet kubelet(String deploymentName, java.nio.file.Path root) {
    return new Kubelet(kubernetes, NAMESPACE, deploymentName, root);
  }

  public List<Event> allEvents() {
    return client.v1().events().inAnyNamespace().list().getItems();
  }

  @Override
  public void close() {
    kubernetes.close();
  }
}
