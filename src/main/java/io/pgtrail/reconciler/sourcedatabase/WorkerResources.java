package io.pgtrail.reconciler.sourcedatabase;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.ProbeBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.pgtrail.BuildVersion;
import io.pgtrail.api.v1alpha1.DestinationEndpointSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.WorkerSpec;
import io.pgtrail.reconciler.support.Hashing;
import io.pgtrail.reconciler.support.Names;
import io.pgtrail.reconciler.support.OwnedResources;
import io.pgtrail.reconciler.support.SecretData;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The worker's ConfigMap (its YAML), Secret (password files, CA certificates) and Deployment, built as
 * pure values from what the reconciler resolved.
 */
public final class WorkerResources {
  public static final String CONFIG_KEY = "worker.yaml";
  public static final String CONFIG_PATH = "/etc/pgtrail/worker.yaml";
  public static final String SOURCE_DIR = "/etc/pgtrail/source";
  public static final String DESTINATION_DIR = "/etc/pgtrail/destination";
  public static final String SSH_DIR = "/etc/pgtrail/ssh";
  public static final String CONFIG_HASH = "pgtrail.io/config-hash";
  public static final int DEFAULT_METRICS_PORT = 9090;
  public static final long RUN_AS = 10001L;
  /**
   * The heap follows the container's memory limit; an OutOfMemoryError ends the process (a restart the
   * Deployment counts and shows) rather than leaving a worker whose threads died half-way.
   */
  public static final String JAVA_TOOL_OPTIONS = "-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory()
      .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
      .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES));

  /** Where the worker connects: the password travels separately, in the Secret. */
  public record Endpoint(String host, int port, String database, String user, String sslMode, String password,
      String caCertificate) {
    String url(String caPath) {
      String h = host.contains(":") ? "[" + host + "]" : host;
      String query = "sslmode=" + sslMode + (caCertificate == null ? "" : "&sslrootcert=" + caPath);
      return "postgresql://" + encode(user) + "@" + h + ":" + port + "/" + encode(database) + "?" + query;
    }

    private static String encode(String s) {
      return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
  }

  /** The SSH jump host in front of the source; the key and known hosts travel in the worker's Secret. */
  public record Tunnel(String host, int port, String user, String privateKey, String knownHosts,
      String hostKeyFingerprint) {
    @Override
    public String toString() {
      return "Tunnel[" + user + "@" + host + ":" + port + "]";
    }
  }

  /** How the worker keeps the changes table (spec.destination; nulls: the worker's defaults). */
  public record Store(String partitionBy, Integer partitionsAhead, String retention, String retentionMode) {
    public static Store from(DestinationEndpointSpec d) {
      return d == null ? null : new Store(lower(d.partitionBy), d.partitionsAhead, d.retention, lower(d.retentionMode));
    }

    private static String lower(Enum<?> e) {
      return e == null ? null : e.name().toLowerCase(java.util.Locale.ROOT);
    }

    Map<String, Object> yaml() {
      Map<String, Object> store = new LinkedHashMap<>();
      putIfSet(store, "partitionBy", partitionBy);
      putIfSet(store, "partitionsAhead", partitionsAhead);
      putIfSet(store, "retention", retention);
      putIfSet(store, "retentionMode", retentionMode);
      return store;
    }
  }

  /** Everything a worker needs; {@code tunnel} is null when the source is reached directly. */
  public record Inputs(String image, String imagePullPolicy, ResourceRequirements resources, int metricsPort,
      Endpoint source, Endpoint destination, String slot, String publication, List<String> ignoreColumns,
      Behaviour behaviour, Tunnel tunnel, WorkerSpec pod, String logFormat, Store store) {
    /** Inputs with the worker's default store settings. */
    public Inputs(String image, String imagePullPolicy, ResourceRequirements resources, int metricsPort,
        Endpoint source, Endpoint destination, String slot, String publication, List<String> ignoreColumns,
        Behaviour behaviour, Tunnel tunnel, WorkerSpec pod, String logFormat) {
      this(image, imagePullPolicy, resources, metricsPort, source, destination, slot, publication, ignoreColumns,
          behaviour, tunnel, pod, logFormat, null);
    }
  }

  /** How the worker batches and reacts to stalls and gaps; null fields leave the worker's defaults. */
  public record Behaviour(Integer batchMaxRows, Long batchMaxBytes, Long batchMaxDelayMs, String onGap,
      Long stallAfterMs) {
    public static final Behaviour DEFAULTS = new Behaviour(null, null, null, null, null);

    public static Behaviour of(WorkerSpec worker) {
      if (worker == null) {
        return DEFAULTS;
      }
      WorkerSpec.Batch batch = worker.batch == null ? new WorkerSpec.Batch() : worker.batch;
      return new Behaviour(batch.maxRows, batch.maxBytes, batch.maxDelayMs, worker.onGap,
          worker.stallAfterSeconds == null ? null : worker.stallAfterSeconds * 1000L);
    }
  }

  /**
   * The pod settings of a source's worker: its spec.worker over the operator's defaults (the chart's
   * worker values); maps merge key by key, every other field is taken whole from the source when set.
   */
  public static WorkerSpec podSettings(WorkerSpec defaults, WorkerSpec own) {
    WorkerSpec d = defaults == null ? new WorkerSpec() : defaults;
    WorkerSpec o = own == null ? new WorkerSpec() : own;
    WorkerSpec merged = new WorkerSpec();
    merged.imagePullSecrets = o.imagePullSecrets != null ? o.imagePullSecrets : d.imagePullSecrets;
    merged.nodeSelector = mergeMaps(d.nodeSelector, o.nodeSelector);
    merged.tolerations = o.tolerations != null ? o.tolerations : d.tolerations;
    merged.affinity = o.affinity != null ? o.affinity : d.affinity;
    merged.priorityClassName = o.priorityClassName != null ? o.priorityClassName : d.priorityClassName;
    merged.serviceAccountName = o.serviceAccountName != null ? o.serviceAccountName : d.serviceAccountName;
    merged.podAnnotations = mergeMaps(d.podAnnotations, o.podAnnotations);
    merged.podLabels = mergeMaps(d.podLabels, o.podLabels);
    return merged;
  }

  private static Map<String, String> mergeMaps(Map<String, String> defaults, Map<String, String> own) {
    if (defaults == null && own == null) {
      return null;
    }
    Map<String, String> merged = new LinkedHashMap<>(defaults == null ? Map.of() : defaults);
    merged.putAll(own == null ? Map.of() : own);
    return merged;
  }

  private WorkerResources() {}

  public static String configMapName(SourceDatabase sdb) {
    return Names.child(sdb.getMetadata().getName(), "worker-config");
  }

  public static String secretName(SourceDatabase sdb) {
    return Names.child(sdb.getMetadata().getName(), "worker-credentials");
  }

  public static String deploymentName(SourceDatabase sdb) {
    return Names.child(sdb.getMetadata().getName(), "worker");
  }

  public static Map<String, String> labels(SourceDatabase sdb) {
    Map<String, String> labels = new LinkedHashMap<>(selector(sdb));
    labels.put("app.kubernetes.io/component", "worker");
    labels.put("app.kubernetes.io/part-of", "pgtrail");
    labels.put(OwnedResources.MANAGED_BY, OwnedResources.MANAGER);
    labels.put(OwnedResources.VERSION, BuildVersion.current().version());
    return labels;
  }

  static Map<String, String> selector(SourceDatabase sdb) {
    Map<String, String> selector = new LinkedHashMap<>();
    selector.put("app.kubernetes.io/name", "pgtrail-worker");
    selector.put("app.kubernetes.io/instance", sdb.getMetadata().getName());
    return selector;
  }

  private static void putIfSet(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }

  /** The worker's YAML configuration (no secrets: passwords are files). */
  public static String workerYaml(Inputs in) {
    Map<String, Object> source = new LinkedHashMap<>();
    source.put("url", in.source().url(SOURCE_DIR + "/ca.crt"));
    source.put("passwordFile", SOURCE_DIR + "/password");
    Map<String, Object> destination = new LinkedHashMap<>();
    destination.put("url", in.destination().url(DESTINATION_DIR + "/ca.crt"));
    destination.put("passwordFile", DESTINATION_DIR + "/password");
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("source", source);
    doc.put("slot", in.slot());
    doc.put("publication", in.publication());
    doc.put("destination", destination);
    doc.put("ignoreColumns", in.ignoreColumns());
    doc.put("metrics", Map.of("port", in.metricsPort()));
    if (in.store() != null && !in.store().yaml().isEmpty()) {
      doc.put("store", in.store().yaml());
    }
    Behaviour behaviour = in.behaviour();
    Map<String, Object> batch = new LinkedHashMap<>();
    putIfSet(batch, "maxRows", behaviour.batchMaxRows());
    putIfSet(batch, "maxBytes", behaviour.batchMaxBytes());
    putIfSet(batch, "maxDelayMs", behaviour.batchMaxDelayMs());
    if (!batch.isEmpty()) {
      doc.put("batch", batch);
    }
    putIfSet(doc, "onGap", behaviour.onGap());
    if (behaviour.stallAfterMs() != null) {
      doc.put("health", Map.of("stallAfterMs", behaviour.stallAfterMs()));
    }
    if (in.tunnel() != null) {
      Map<String, Object> tunnel = new LinkedHashMap<>();
      tunnel.put("host", in.tunnel().host());
      tunnel.put("port", in.tunnel().port());
      tunnel.put("user", in.tunnel().user());
      tunnel.put("privateKeyFile", SSH_DIR + "/id_ed25519");
      if (in.tunnel().knownHosts() != null) {
        tunnel.put("knownHostsFile", SSH_DIR + "/known_hosts");
      }
      if (in.tunnel().hostKeyFingerprint() != null) {
        tunnel.put("hostKeyFingerprint", in.tunnel().hostKeyFingerprint());
      }
      doc.put("sshTunnel", tunnel);
    }
    try {
      return YAML.writeValueAsString(doc);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ConfigMap configMap(SourceDatabase sdb, Inputs in) {
    return new ConfigMapBuilder()
        .withNewMetadata().withName(configMapName(sdb)).withLabels(labels(sdb)).endMetadata()
        .addToData(CONFIG_KEY, workerYaml(in))
        .build();
  }

  public static Secret secret(SourceDatabase sdb, Inputs in) {
    Map<String, String> plain = new LinkedHashMap<>();
    plain.put("source-password", in.source().password() == null ? "" : in.source().password());
    plain.put("destination-password", in.destination().password() == null ? "" : in.destination().password());
    if (in.source().caCertificate() != null) {
      plain.put("source-ca.crt", in.source().caCertificate());
    }
    if (in.destination().caCertificate() != null) {
      plain.put("destination-ca.crt", in.destination().caCertificate());
    }
    if (in.tunnel() != null) {
      plain.put("ssh-privatekey", in.tunnel().privateKey());
      if (in.tunnel().knownHosts() != null) {
        plain.put("ssh-known-hosts", in.tunnel().knownHosts());
      }
    }
    return new SecretBuilder()
        .withNewMetadata().withName(secretName(sdb)).withLabels(labels(sdb)).endMetadata()
        .withType("Opaque")
        .withData(SecretData.encode(plain))
        .build();
  }

  /**
   * The Deployment. {@code configHash} covers the worker YAML and the stored Secret's version, so a
   * changed configuration or rotated password rolls the pod.
   */
  public static Deployment deployment(SourceDatabase sdb, Inputs in, String configHash) {
    List<KeyToPath> sourceItems = new ArrayList<>(List.of(new KeyToPath("source-password", 0440, "password")));
    if (in.source().caCertificate() != null) {
      sourceItems.add(new KeyToPath("source-ca.crt", 0440, "ca.crt"));
    }
    List<KeyToPath> destinationItems =
        new ArrayList<>(List.of(new KeyToPath("destination-password", 0440, "password")));
    if (in.destination().caCertificate() != null) {
      destinationItems.add(new KeyToPath("destination-ca.crt", 0440, "ca.crt"));
    }
    List<KeyToPath> sshItems = new ArrayList<>();
    if (in.tunnel() != null) {
      sshItems.add(new KeyToPath("ssh-privatekey", 0400, "id_ed25519"));
      if (in.tunnel().knownHosts() != null) {
        sshItems.add(new KeyToPath("ssh-known-hosts", 0440, "known_hosts"));
      }
    }
    ResourceRequirements resources = in.resources() != null ? in.resources() : new ResourceRequirementsBuilder()
        .addToRequests("cpu", new Quantity("100m"))
        .addToRequests("memory", new Quantity("256Mi"))
        .addToLimits("memory", new Quantity("512Mi"))
        .build();
    Deployment deployment = new DeploymentBuilder()
        .withNewMetadata().withName(deploymentName(sdb)).withLabels(labels(sdb)).endMetadata()
        .withNewSpec()
          .withReplicas(1)
          .withNewStrategy().withType("Recreate").endStrategy()
          .withRevisionHistoryLimit(3)
          .withNewSelector().withMatchLabels(selector(sdb)).endSelector()
          .withNewTemplate()
            .withNewMetadata()
              .withLabels(podLabels(sdb, in.pod()))
              .withAnnotations(in.pod() == null || in.pod().podAnnotations == null ? new LinkedHashMap<>()
                  : new LinkedHashMap<>(in.pod().podAnnotations))
              .addToAnnotations(CONFIG_HASH, configHash)
              .addToAnnotations("prometheus.io/scrape", "true")
              .addToAnnotations("prometheus.io/port", Integer.toString(in.metricsPort()))
            .endMetadata()
            .withNewSpec()
              .withAutomountServiceAccountToken(false)
              .withTerminationGracePeriodSeconds(30L)
              .withNewSecurityContext()
                .withRunAsNonRoot(true)
                .withRunAsUser(RUN_AS)
                .withRunAsGroup(RUN_AS)
                .withFsGroup(RUN_AS)
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
              .endSecurityContext()
              .addNewContainer()
                .withName("worker")
                .withImage(in.image())
                .withImagePullPolicy(in.imagePullPolicy())
                .withArgs("worker", "--config", CONFIG_PATH)
                .addNewEnv().withName("JAVA_TOOL_OPTIONS").withValue(JAVA_TOOL_OPTIONS).endEnv()
                .addNewEnv().withName("PGTRAIL_LOG_FORMAT").withValue(in.logFormat() == null ? "text" : in.logFormat())
                  .endEnv()
                .addNewPort().withName("metrics").withContainerPort(in.metricsPort()).withProtocol("TCP").endPort()
                .withLivenessProbe(probe("/healthz", 20, 6))
                .withReadinessProbe(probe("/readyz", 5, 3))
                .withStartupProbe(probe("/healthz", 5, 24))
                .withResources(resources)
                .withNewSecurityContext()
                  .withAllowPrivilegeEscalation(false)
                  .withReadOnlyRootFilesystem(true)
                  .withRunAsNonRoot(true)
                  .withNewCapabilities().withDrop("ALL").endCapabilities()
                .endSecurityContext()
                .addNewVolumeMount().withName("config").withMountPath(CONFIG_PATH).withSubPath(CONFIG_KEY)
                  .withReadOnly(true).endVolumeMount()
                .addNewVolumeMount().withName("source").withMountPath(SOURCE_DIR).withReadOnly(true).endVolumeMount()
                .addNewVolumeMount().withName("destination").withMountPath(DESTINATION_DIR).withReadOnly(true)
                  .endVolumeMount()
                .addNewVolumeMount().withName("tmp").withMountPath("/tmp").endVolumeMount()
              .endContainer()
              .addNewVolume().withName("config")
                .withNewConfigMap().withName(configMapName(sdb)).endConfigMap().endVolume()
              .addNewVolume().withName("source")
                .withNewSecret().withSecretName(secretName(sdb)).withItems(sourceItems).endSecret().endVolume()
              .addNewVolume().withName("destination")
                .withNewSecret().withSecretName(secretName(sdb)).withItems(destinationItems).endSecret().endVolume()
              .addNewVolume().withName("tmp").withNewEmptyDir().withMedium("").endEmptyDir().endVolume()
            .endSpec()
          .endTemplate()
        .endSpec()
        .build();
    applyPodSettings(deployment.getSpec().getTemplate().getSpec(), in.pod());
    if (!sshItems.isEmpty()) {
      PodSpec pod = deployment.getSpec().getTemplate().getSpec();
      pod.getContainers().get(0).getVolumeMounts().add(new VolumeMountBuilder().withName("ssh").withMountPath(SSH_DIR)
          .withReadOnly(true).build());
      pod.getVolumes().add(new VolumeBuilder().withName("ssh")
          .withNewSecret().withSecretName(secretName(sdb)).withItems(sshItems).endSecret().build());
    }
    return deployment;
  }

  private static Map<String, String> podLabels(SourceDatabase sdb, WorkerSpec pod) {
    Map<String, String> labels = new LinkedHashMap<>(pod == null || pod.podLabels == null ? Map.of() : pod.podLabels);
    labels.putAll(labels(sdb)); // pgtrail's labels select the pod: they win
    return labels;
  }

  private static void applyPodSettings(PodSpec spec, WorkerSpec pod) {
    if (pod == null) {
      return;
    }
    spec.setImagePullSecrets(pod.imagePullSecrets == null ? null : new ArrayList<>(pod.imagePullSecrets));
    spec.setNodeSelector(pod.nodeSelector == null || pod.nodeSelector.isEmpty() ? null : pod.nodeSelector);
    spec.setTolerations(pod.tolerations == null ? null : new ArrayList<>(pod.tolerations));
    spec.setAffinity(pod.affinity);
    spec.setPriorityClassName(pod.priorityClassName == null || pod.priorityClassName.isBlank() ? null
        : pod.priorityClassName);
    spec.setServiceAccountName(pod.serviceAccountName == null || pod.serviceAccountName.isBlank() ? null
        : pod.serviceAccountName);
  }

  private static Probe probe(String path, int period, int failures) {
    return new ProbeBuilder()
        .withNewHttpGet().withPath(path).withPort(new IntOrString("metrics")).endHttpGet()
        .withPeriodSeconds(period)
        .withTimeoutSeconds(3)
        .withFailureThreshold(failures)
        .build();
  }

  /** The pod template hash: the worker YAML plus the stored Secret's identity and version (never its content). */
  public static String configHash(String workerYaml, Secret storedSecret) {
    // the Secret's resourceVersion changes exactly when its content changes; no secret material is hashed
    String secretVersion = storedSecret.getMetadata().getUid() + "/" + storedSecret.getMetadata().getResourceVersion();
    return Hashing.sha256(workerYaml + "\0" + secretVersion).substring(0, 16);
  }
}
