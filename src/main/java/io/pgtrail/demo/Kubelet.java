package io.pgtrail.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtrail.worker.Worker;
import io.pgtrail.worker.WorkerConfig;
import io.pgtrail.worker.WorkerMetrics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stands in for the kubelet for one worker Deployment: runs the worker in this JVM with exactly what
 * the operator rendered. The pod's ConfigMap and Secret volumes are written to a private temporary
 * directory (Secret files readable by the owner only), the container's {@code --config} file is read
 * from there, and its absolute paths are re-rooted into that directory. A changed pod template stops
 * the running worker and starts a new one (strategy Recreate); a streaming worker marks the Deployment
 * available, which is what the operator's WorkerAvailable condition waits for.
 */
public final class Kubelet implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Kubelet.class);
  private static final Duration SYNC_INTERVAL = Duration.ofMillis(200);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final LocalKubernetes kubernetes;
  private final KubernetesClient client;
  private final String namespace;
  private final String deploymentName;
  private final Path root;
  private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "pgtrail-demo-kubelet");
    t.setDaemon(true);
    return t;
  });
  private volatile Pod pod;
  private volatile String lastProblem;
  private volatile int starts;
  private volatile boolean outlivesDeletion;

  /** A running worker and the pod template it was started from. */
  private record Pod(String template, Path directory, Worker worker, Thread thread) {}

  public Kubelet(LocalKubernetes kubernetes, String namespace, String deploymentName, Path root) {
    this.kubernetes = kubernetes;
    this.client = kubernetes.client();
    this.namespace = namespace;
    this.deploymentName = deploymentName;
    this.root = root;
  }

  public Kubelet start() {
    loop.scheduleWithFixedDelay(this::syncQuietly, 0, SYNC_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Whether a worker streams from the Deployment's current pod template. */
  public boolean runsCurrentTemplate() {
    Pod running = pod;
    Deployment d = client.apps().deployments().inNamespace(namespace).withName(deploymentName).get();
    return running != null && d != null && running.worker().isStreaming()
        && running.template().equals(template(d.getSpec().getTemplate()));
  }

  /** How many times a worker was started (more than once: the operator changed the pod template). */
  int starts() {
    return starts;
  }

  /** One line for a failure message. */
  String describe() {
    Pod running = pod;
    String state = running == null ? "no worker running"
        : running.worker().isStreaming() ? "worker streaming" : "worker started, not streaming yet";
    return state + (lastProblem == null ? "" : " (last problem: " + lastProblem + ")");
  }

  private void syncQuietly() {
    try {
      sync();
      lastProblem = null;
    } catch (RuntimeException | IOException e) {
      lastProblem = e.getMessage();
      LOG.debug("kubelet sync failed", e);
    }
  }

  /**
   * Keeps a running worker alive after its Deployment is deleted, until {@link #stopWorker()}: a pod
   * in a cluster takes a while to stop, and its replication connection lives on meanwhile.
   */
  public Kubelet outlivingDeletion() {
    outlivesDeletion = true;
    return this;
  }

  /** Whether a worker runs (streaming or not). */
  public boolean hasWorker() {
    return pod != null;
  }

  /** Stops the running worker, as a pod's termination would. */
  public void stopWorker() {
    stopPod();
  }

  private void sync() throws IOException {
    Deployment d = client.apps().deployments().inNamespace(namespace).withName(deploymentName).get();
    if (d == null || d.getMetadata().getDeletionTimestamp() != null) {
      if (!outlivesDeletion) {
        stopPod();
      }
      return;
    }
    if (Integer.valueOf(0).equals(d.getSpec().getReplicas())) {
      stopPod(); // scaled to zero
      return;
    }
    String template = template(d.getSpec().getTemplate());
    Pod running = pod;
    if (running != null && (!running.template().equals(template) || !running.thread().isAlive())) {
      stopPod();
      running = null;
    }
    if (running == null) {
      running = startPod(d.getSpec().getTemplate(), template);
    }
    if (running.worker().isStreaming()) {
      kubernetes.markAvailable(d);
    }
  }

  private static String template(PodTemplateSpec template) {
    return Serialization.asJson(template);
  }

  private Pod startPod(PodTemplateSpec template, String templateJson) throws IOException {
    Path directory = Files.createTempDirectory(root, "pod-");
    try {
      return startPod(template, templateJson, directory);
    } catch (RuntimeException | IOException e) {
      deleteQuietly(directory);
      throw e;
    }
  }

  private Pod startPod(PodTemplateSpec template, String templateJson, Path directory) throws IOException {
    PodSpec spec = template.getSpec();
    Container container = spec.getContainers().get(0);
    Map<String, Path> mounts = mountVolumes(spec, container, directory);
    List<String> args = container.getArgs();
    int config = args.indexOf("--config");
    if (config < 0 || config + 1 >= args.size()) {
      throw new IllegalStateException("the worker container has no --config argument: " + args);
    }
    String rendered = Files.readString(hostPath(mounts, args.get(config + 1)));
    WorkerConfig workerConfig = WorkerConfig.parse(rerooted(rendered, mounts));
    Worker worker = new Worker(Worker.Settings.from(workerConfig, Map.of()), new WorkerMetrics());
    Thread thread = new Thread(worker, "pgtrail-demo-worker");
    thread.setDaemon(true);
    thread.start();
    starts++;
    Pod started = new Pod(templateJson, directory, worker, thread);
    pod = started;
    return started;
  }

  /** Writes each mounted volume under {@code directory}; returns container mount path to host path. */
  private Map<String, Path> mountVolumes(PodSpec spec, Container container, Path directory) throws IOException {
    Map<String, Path> mounts = new LinkedHashMap<>();
    for (VolumeMount mount : container.getVolumeMounts()) {
      Volume volume = spec.getVolumes().stream().filter(v -> v.getName().equals(mount.getName())).findFirst()
          .orElseThrow(() -> new IllegalStateException("volume " + mount.getName() + " is not defined"));
      Path target = directory.resolve(mount.getMountPath().replaceFirst("^/+", ""));
      Map<String, byte[]> files = volumeFiles(volume);
      if (mount.getSubPath() != null && !mount.getSubPath().isEmpty()) {
        byte[] content = files.get(mount.getSubPath());
        if (content == null) {
          throw new IllegalStateException("volume " + volume.getName() + " has no " + mount.getSubPath());
        }
        write(target, content, volume.getSecret() != null);
      } else {
        Files.createDirectories(target);
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
          write(target.resolve(file.getKey()), file.getValue(), volume.getSecret() != null);
        }
      }
      mounts.put(mount.getMountPath(), target);
    }
    return mounts;
  }

  private Map<String, byte[]> volumeFiles(Volume volume) {
    Map<String, byte[]> byKey = new LinkedHashMap<>();
    List<KeyToPath> items;
    if (volume.getConfigMap() != null) {
      ConfigMap cm = client.configMaps().inNamespace(namespace).withName(volume.getConfigMap().getName()).get();
      if (cm == null) {
        throw new IllegalStateException("ConfigMap " + volume.getConfigMap().getName() + " does not exist");
      }
      cm.getData().forEach((k, v) -> byKey.put(k, v.getBytes(StandardCharsets.UTF_8)));
      items = volume.getConfigMap().getItems();
    } else if (volume.getSecret() != null) {
      Secret secret = client.secrets().inNamespace(namespace).withName(volume.getSecret().getSecretName()).get();
      if (secret == null) {
        throw new IllegalStateException("Secret " + volume.getSecret().getSecretName() + " does not exist");
      }
      secret.getData().forEach((k, v) -> byKey.put(k, Base64.getDecoder().decode(v)));
      items = volume.getSecret().getItems();
    } else {
      return Map.of(); // emptyDir: an empty directory
    }
    if (items == null || items.isEmpty()) {
      return byKey;
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (KeyToPath item : items) {
      if (!byKey.containsKey(item.getKey())) {
        throw new IllegalStateException("volume " + volume.getName() + " lacks key " + item.getKey());
      }
      files.put(item.getPath(), byKey.get(item.getKey()));
    }
    return files;
  }

  private static void write(Path file, byte[] content, boolean secret) throws IOException {
    Files.createDirectories(file.getParent());
    if (secret && FileSystems.getDefault().supportedFileAttributeViews().contains("posix")) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Files.write(file, content);
  }

  private static Path hostPath(Map<String, Path> mounts, String containerPath) {
    String best = null;
    for (String mountPath : mounts.keySet()) {
      if ((containerPath.equals(mountPath) || containerPath.startsWith(mountPath + "/"))
          && (best == null || mountPath.length() > best.length())) {
        best = mountPath;
      }
    }
    if (best == null) {
      throw new IllegalStateException(containerPath + " is not inside any volume of the worker container");
    }
    String rest = containerPath.substring(best.length()).replaceFirst("^/+", "");
    return rest.isEmpty() ? mounts.get(best) : mounts.get(best).resolve(rest);
  }

  /**
   * The rendered config with every absolute path inside a volume (password files, CA certificates in
   * URLs, SSH key files) moved under the pod directory; nothing else changes.
   */
  static String rerooted(String yaml, Map<String, Path> mounts) throws IOException {
    List<String> longestFirst = mounts.keySet().stream().sorted(Comparator.comparing(String::length).reversed())
        .map(Pattern::quote).toList();
    Pattern inVolume = Pattern.compile("(^|=)(" + String.join("|", longestFirst) + ")(?=/|$|&)");
    return YAML.writeValueAsString(rerooted(YAML.readTree(yaml), inVolume, mounts));
  }

  private static JsonNode rerooted(JsonNode node, Pattern inVolume, Map<String, Path> mounts) {
    if (node.isObject()) {
      ObjectNode object = (ObjectNode) node;
      List<String> names = new java.util.ArrayList<>();
      object.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        object.set(name, rerooted(object.get(name), inVolume, mounts));
      }
      return object;
    }
    if (node.isArray()) {
      ArrayNode array = (ArrayNode) node;
      for (int i = 0; i < array.size(); i++) {
        array.set(i, rerooted(array.get(i), inVolume, mounts));
      }
      return array;
    }
    if (node.isTextual()) {
      Matcher m = inVolume.matcher(node.asText());
      StringBuilder out = new StringBuilder();
      while (m.find()) {
        m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + mounts.get(m.group(2))));
      }
      m.appendTail(out);
      return TextNode.valueOf(out.toString());
    }
    return node;
  }

  private void stopPod() {
    Pod running = pod;
    if (running == null) {
      return;
    }
    pod = null;
    running.worker().requestStop();
    try {
      if (!running.worker().awaitStopped(STOP_TIMEOUT)) {
        LOG.warn("the demo worker did not stop within {}", STOP_TIMEOUT);
        running.thread().interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      deleteQuietly(running.directory());
    }
  }

  static void deleteQuietly(Path directory) {
    try (Stream<Path> paths = Files.walk(directory)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("could not delete {}: {}", directory, e.getMessage());
    }
  }

  /** Stops the sync loop, then the worker, and deletes the pod directories (password files included). */
  @Override
  public void close() {
    loop.shutdown();
    try {
      if (!loop.awaitTermination(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        loop.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      loop.shutdownNow();
    }
    stopPod();
  }
}
