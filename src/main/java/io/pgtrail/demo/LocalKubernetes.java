package io.pgtrail.demo;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
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
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.function.BooleanSupplier;

/**
 * An in-process Kubernetes API on loopback: Fabric8's mock server in CRUD mode with pgtrail's generated
 * CRDs (read from the classpath, so it works from the jar) registered. It stands in for the parts of a
 * cluster the operator relies on but the mock lacks: a SelfSubjectRulesReview answer (leader election
 * checks its rights), folding {@code Secret.stringData} into {@code data}, and marking Deployments
 * available (a stand-in deployment controller). No garbage collection and no schema validation.
 */
public final class LocalKubernetes implements AutoCloseable {
  static final List<Class<? extends HasMetadata>> CUSTOM_RESOURCES = List.of(SourceDatabase.class, TrackingPolicy.class);

  private final KubernetesMockServer server;
  private final KubernetesClient client;
  private Watch deploymentController;

  private LocalKubernetes() {
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    answerSelfSubjectRulesReviews();
    client = server.createClient();
  }

  /** Starts the API server and registers the pgtrail CRDs. */
  public static LocalKubernetes start() {
    LocalKubernetes kubernetes = new LocalKubernetes();
    try {
      kubernetes.registerCrds();
      return kubernetes;
    } catch (RuntimeException e) {
      kubernetes.close();
      throw e;
    }
  }

  private void answerSelfSubjectRulesReviews() {
    server.expect().post().withPath("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
        .andReturn(201, new SelfSubjectRulesReviewBuilder()
            .withNewStatus().withIncomplete(false)
              .addNewResourceRule().withApiGroups("coordination.k8s.io").withResources("leases")
                .withVerbs("*").endResourceRule()
            .endStatus().build())
        .always();
  }

  /** The generated CRD file of a custom resource class, as the crd-generator names it. */
  static String crdResource(Class<? extends HasMetadata> type) {
    return "META-INF/fabric8/" + HasMetadata.getFullResourceName(type) + "-v1.yml";
  }

  private void registerCrds() {
    for (Class<? extends HasMetadata> type : CUSTOM_RESOURCES) {
      String resource = crdResource(type);
      try (InputStream in = LocalKubernetes.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException("CRD " + resource + " is not on the classpath (run mvn package first)");
        }
        CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
        client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read CRD " + resource, e);
      }
    }
  }

  /** A client of this API server (shared; closed with it). */
  public KubernetesClient client() {
    return client;
  }

  /** A new client that its user owns and closes. */
  public KubernetesClient newClient() {
    return server.createClient();
  }

  public void createNamespace(String name) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build())
        .createOr(existing -> existing.update());
  }

  /**
   * Creates or replaces a Secret, folding {@code stringData} into {@code data} as the real API server
   * does (the mock stores stringData as given and the operator reads only data).
   */
  public Secret applySecret(Secret secret) {
    if (secret.getStringData() != null && !secret.getStringData().isEmpty()) {
      Map<String, String> data = new LinkedHashMap<>(secret.getData() == null ? Map.of() : secret.getData());
      secret.getStringData().forEach((k, v) ->
          data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
      secret.setData(data);
      secret.setStringData(null);
    }
    return client.secrets().inNamespace(secret.getMetadata().getNamespace()).resource(secret)
        .createOr(existing -> existing.update());
  }

  /**
   * Starts a stand-in deployment controller: while {@code available} says so, every added or changed
   * Deployment is reported as rolled out with one available replica.
   */
  public void markDeploymentsAvailableWhile(BooleanSupplier available) {
    if (deploymentController != null) {
      throw new IllegalStateException("the deployment controller already runs");
    }
    deploymentController = client.apps().deployments().inAnyNamespace().watch(new Watcher<>() {
      @Override
      public void eventReceived(Action action, Deployment deployment) {
        if ((action == Action.ADDED || action == Action.MODIFIED) && available.getAsBoolean()) {
          markAvailable(deployment);
        }
      }

      @Override
      public void onClose(WatcherException cause) {
        // the API server is closing
      }
    });
  }

  /** Reports a Deployment's current generation as rolled out with one available replica (none when scaled to zero). */
  public void markAvailable(Deployment d) {
    if (d.getMetadata().getDeletionTimestamp() != null) {
      return;
    }
    Long generation = d.getMetadata().getGeneration() == null ? 1L : d.getMetadata().getGeneration();
    int replicas = d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : Math.min(1, d.getSpec().getReplicas());
    if (d.getStatus() != null && generation.equals(d.getStatus().getObservedGeneration())
        && Integer.valueOf(replicas).equals(d.getStatus().getAvailableReplicas())) {
      return;
    }
    d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(generation).withReplicas(replicas)
        .withReadyReplicas(replicas).withAvailableReplicas(replicas).withUpdatedReplicas(replicas).build());
    try {
      client.apps().deployments().inNamespace(d.getMetadata().getNamespace()).resource(d).updateStatus();
    } catch (RuntimeException e) {
      // the Deployment changed meanwhile: its next version is marked when it is seen
    }
  }

  @Override
  public void close() {
    if (deploymentController != null) {
      deploymentController.close();
    }
    client.close();
    server.destroy();
  }
}
