package io.pgtrail.testing;

import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.operator.OperatorOptions;
import io.pgtrail.operator.PgtrailOperator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A mock cluster, captured logs and a running operator (which a test may stop and start again). */
public final class OperatorHarness implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  public final MockCluster cluster = new MockCluster();
  public final LogCapture logs = LogCapture.attach();
  private OperatorOptions options = OperatorOptions.defaults()
      .withHttpPort(0)
      .withWatchNamespaces(Set.of(MockCluster.NAMESPACE))
      .withLeaderElection(true, MockCluster.NAMESPACE)
      .withIntervals(Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofMinutes(15))
      .withWorkerImage("registry.test/pgtrail:test");
  private PgtrailOperator operator;
  private KubernetesClient operatorClient;

  public OperatorHarness withOptions(java.util.function.UnaryOperator<OperatorOptions> change) {
    options = change.apply(options);
    return this;
  }

  public OperatorHarness startOperator() {
    try {
      operatorClient = cluster.newClient();
      operator = new PgtrailOperator(operatorClient, options).start();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public void stopOperator() {
    if (operator != null) {
      operator.close();
      operatorClient.close();
      operator = null;
    }
  }

  public PgtrailOperator operator() {
    return operator;
  }

  public KubernetesClient client() {
    return cluster.client();
  }

  public SourceDatabase apply(SourceDatabase source) {
    source.getMetadata().setNamespace(MockCluster.NAMESPACE);
    return client().resource(source).createOr(existing -> existing.update());
  }

  public TrackingPolicy apply(TrackingPolicy policy) {
    policy.getMetadata().setNamespace(MockCluster.NAMESPACE);
    return client().resource(policy).createOr(existing -> existing.update());
  }

  public SourceDatabase source(String name) {
    return client().resources(SourceDatabase.class).inNamespace(MockCluster.NAMESPACE).withName(name).get();
  }

  public TrackingPolicy policy(String name) {
    return client().resources(TrackingPolicy.class).inNamespace(MockCluster.NAMESPACE).withName(name).get();
  }

  public static Optional<Condition> condition(List<Condition> conditions, String type) {
    return conditions == null ? Optional.empty()
        : conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** Waits until the source's condition has the given status (and reason, when not null); returns the source. */
  public SourceDatabase awaitSource(String name, String type, String status, String reason, Duration timeout) {
    await().atMost(timeout).pollInterval(Duration.ofMillis(100)).until(() -> {
      SourceDatabase s = source(name);
      return s != null && s.getStatus() != null && condition(s.getStatus().conditions, type)
          .filter(c -> c.getStatus().equals(status) && (reason == null || reason.equals(c.getReason())))
          .isPresent();
    });
    return source(name);
  }

  public SourceDatabase awaitSource(String name, String type, String status, String reason) {
    return awaitSource(name, type, status, reason, Duration.ofSeconds(30));
  }

  public TrackingPolicy awaitPolicy(String name, String type, String status, String reason) {
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).until(() -> {
      TrackingPolicy p = policy(name);
      return p != null && p.getStatus() != null && condition(p.getStatus().conditions, type)
          .filter(c -> c.getStatus().equals(status) && (reason == null || reason.equals(c.getReason())))
          .isPresent();
    });
    return policy(name);
  }

  /** Reconciliations the running operator has finished for a controller, read from its own /metrics. */
  public long reconciliations(String controller) {
    try {
      String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + operator.httpPort() + "/metrics"))
          .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = Pattern.compile("^pgtrail_operator_reconciliations_total\\{controller=\"" + Pattern.quote(controller)
          + "\"\\} (\\S+)$", Pattern.MULTILINE).matcher(metrics);
      return m.find() ? (long) Double.parseDouble(m.group(1)) : 0;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Waits until the operator has finished {@code more} further reconciliations of a controller. "It retried
   * and still did not ..." is then shown by counting retries, not by letting a wall-clock window pass.
   */
  public void awaitMoreReconciliations(String controller, int more) {
    long target = reconciliations(controller) + more;
    await(more + " more " + controller + " reconciliations").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100)).until(() -> reconciliations(controller) >= target);
  }

  @Override
  public void close() {
    stopOperator();
    logs.close();
    cluster.close();
  }
}
