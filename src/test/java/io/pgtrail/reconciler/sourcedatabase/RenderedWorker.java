package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.reconciler.support.SecretData;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.worker.Worker;
import io.pgtrail.worker.WorkerConfig;
import io.pgtrail.worker.WorkerMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Runs the worker in the test JVM the way its pod would: the ConfigMap's YAML, and the worker Secret's
 * entries as the files the Deployment mounts, with {@code /etc/pgtrail} moved into a temporary directory.
 */
final class RenderedWorker implements AutoCloseable {
  private static final Map<String, String> MOUNTED_FILES = Map.of(
      "source-password", "source/password",
      "destination-password", "destination/password",
      "source-ca.crt", "source/ca.crt",
      "destination-ca.crt", "destination/ca.crt",
      "ssh-privatekey", "ssh/id_ed25519",
      "ssh-known-hosts", "ssh/known_hosts");

  private final String config;
  private final Worker worker;
  private final Thread thread;

  private RenderedWorker(String config, Worker worker) {
    this.config = config;
    this.worker = worker;
    this.thread = new Thread(worker, "rendered-worker");
    thread.start();
  }

  static RenderedWorker start(KubernetesClient client, String source, Path root) throws IOException {
    ConfigMap configMap = client.configMaps().inNamespace(MockCluster.NAMESPACE).withName(source + "-worker-config").get();
    Secret secret = client.secrets().inNamespace(MockCluster.NAMESPACE).withName(source + "-worker-credentials").get();
    for (Map.Entry<String, String> file : MOUNTED_FILES.entrySet()) {
      var value = SecretData.value(secret, file.getKey());
      if (value.isPresent()) {
        Path path = root.resolve(file.getValue());
        Files.createDirectories(path.getParent());
        Files.writeString(path, value.get());
      }
    }
    String yaml = configMap.getData().get(WorkerResources.CONFIG_KEY);
    WorkerConfig config = WorkerConfig.parse(yaml.replace("/etc/pgtrail/", root + "/"));
    return new RenderedWorker(yaml, new Worker(Worker.Settings.from(config, Map.of()), new WorkerMetrics()));
  }

  String config() {
    return config;
  }

  @Override
  public void close() throws InterruptedException {
    worker.requestStop();
    if (!worker.awaitStopped(Duration.ofSeconds(20))) {
      thread.interrupt();
    }
  }
}
