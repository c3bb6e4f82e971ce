package io.pgtrail.testing;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.api.model.authorization.v1.SelfSubjectRulesReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A Kubernetes API for tests: Fabric8's mock server in CRUD mode with pgtrail's generated CRDs
 * registered. It stands in for the parts of a cluster the operator relies on but the mock lacks:
 * a SelfSubjectRulesReview answer (leader election checks its rights) and a deployment controller that
 * marks worker Deployments available ({@link #workersBecomeAvailable}). No garbage collection: tests
 * assert owner references instead.
 */
public final class MockCluster implements AutoCloseable {
  public static final String NAMESPACE = "apps";
  private static final Path GENERATED_CRDS = Path.of("target/classes/META-INF/fabric8");

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private final AtomicBoolean workersAvailable = new AtomicBoolean(true);
  private final Watch deploymentWatch;

  public MockCluster() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, new SelfSubjectRulesReviewBuilder()
            .withNewStatus().withIncomplete(false)
              .addNewResourceRule().withApiGroups("coordination.k8s.io").withResources("leases")
                .withVerbs("*").endResourceRule()
            .endStatus().build())
        .always();
    client = server.createClient();
    registerCrds();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    deploymentWatch = client.apps().deployments().inAnyNamespace().watch(new DeploymentController());
  }

  private void registerCrds() {
    try (Stream<Path> files = Files.list(GENERATED_CRDS)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".yml")).sorted().toList()) {
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions()
            .load(file.toFile()).item();
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read generated CRDs from " + GENERATED_CRDS, e);
    }
  }

  public KubernetesClient client() {
    return client;
  }

  /** A fresh client (an operator under test owns and may close it). */
  public KubernetesClient newClient() {
    return server.createClient();
  }

  /** Whether the simulated deployment controller reports new worker Deployments as available. */
  public void workersBecomeAvailable(boolean available) {
    workersAvailable.set(available);
    if (available) {
      client.apps().deployments().inAnyNamespace().list().getItems().forEach(this::markAvailable);
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

  public List<Event> allEvents() {
    return client.v1().events().inAnyNamespace().list().getItems();
  }

  private void markAvailable(Deployment d) {
    if (d.getMetadata().getDeletionTimestamp() != null) {
      return;
    }
    Long generation = d.getMetadata().getGeneration() == null ? 1L : d.getMetadata().getGeneration();
    if (d.getStatus() != null && generation.equals(d.getStatus().getObservedGeneration())
        && Integer.valueOf(1).equals(d.getStatus().getAvailableReplicas())) {
      return;
    }
    d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(generation).withReplicas(1)
        .withReadyReplicas(1).withAvailableReplicas(1).withUpdatedReplicas(1).build());
    try {
      client.apps().deployments().inNamespace(d.getMetadata().getNamespace()).resource(d).updateStatus();
    } catch (RuntimeException e) {
      // the Deployment changed meanwhile: the next watch event marks the new version
    }
  }

  private final class DeploymentController implements Watcher<Deployment> {
    @Override
    public void eventReceived(Action action, Deployment deployment) {
      if ((action == Action.ADDED || action == Action.MODIFIED) && workersAvailable.get()) {
        markAvailable(deployment);
      }
    }

    @Override
    public void onClose(WatcherException cause) {
      // the cluster is closing
    }
  }

  @Override
  public void close() {
    deploymentWatch.close();
    client.close();
    server.destroy();
  }
}
