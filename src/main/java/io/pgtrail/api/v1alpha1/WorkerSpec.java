package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import java.util.List;
import java.util.Map;

/** The replication worker Deployment (one replica, strategy Recreate). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class WorkerSpec {
  @JsonPropertyDescription("Image override (default: the operator's worker image).")
  public String image;

  @JsonPropertyDescription("Always, IfNotPresent or Never.")
  @io.fabric8.generator.annotation.Pattern("^(Always|IfNotPresent|Never)$")
  public String imagePullPolicy;

  @JsonPropertyDescription("CPU and memory requests/limits of the worker container.")
  public ResourceRequirements resources;

  @JsonPropertyDescription("How the worker batches writes to the destination.")
  public Batch batch;

  @JsonPropertyDescription("What the worker does after it wrote a gap record into changes (its slot was missing or"
      + " invalidated, the publication was re-created, or the stream jumped): stop (default; the worker exits until"
      + " the slot is re-created on purpose) or continue.")
  @io.fabric8.generator.annotation.Pattern("^(stop|continue)$")
  public String onGap;

  @Min(5)
  @Max(86400)
  @JsonPropertyDescription("The worker's /readyz fails when its acknowledged position has not moved for this many"
      + " seconds while the slot has data (worker default 60).")
  public Integer stallAfterSeconds;

  @Min(1024)
  @Max(65535)
  @JsonPropertyDescription("Port of /healthz, /readyz and /metrics (default 9090).")
  public Integer metricsPort;

  @JsonPropertyDescription("Secrets to pull the worker image with (default: the chart's worker.imagePullSecrets).")
  public List<LocalObjectReference> imagePullSecrets;

  @JsonPropertyDescription("Node labels the worker pod must match (merged over the chart's worker.nodeSelector).")
  public Map<String, String> nodeSelector;

  @JsonPropertyDescription("Tolerations of the worker pod (default: the chart's worker.tolerations).")
  public List<Toleration> tolerations;

  @JsonPropertyDescription("Affinity of the worker pod (default: the chart's worker.affinity).")
  public Affinity affinity;

  @JsonPropertyDescription("PriorityClass of the worker pod (default: the chart's worker.priorityClassName).")
  public String priorityClassName;

  @JsonPropertyDescription("ServiceAccount of the worker pod (default: the chart's worker.serviceAccountName, else"
      + " the namespace's default). The worker never uses the Kubernetes API: its token is not mounted.")
  public String serviceAccountName;

  @JsonPropertyDescription("Extra annotations on the worker pod (merged over the chart's worker.podAnnotations).")
  public Map<String, String> podAnnotations;

  @JsonPropertyDescription("Extra labels on the worker pod (merged over the chart's worker.podLabels; pgtrail's own"
      + " labels win).")
  public Map<String, String> podLabels;

  /** Destination write batching: rows per COPY and the longest a change waits in memory. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Batch {
    @Min(1)
    @Max(100000)
    @JsonPropertyDescription("Rows per destination write (worker default 5000).")
    public Integer maxRows;

    @Min(1)
    @Max(60000)
    @JsonPropertyDescription("Longest a change waits before it is written, in milliseconds (worker default 200).")
    public Long maxDelayMs;

    @Min(65536)
    @Max(1073741824)
    @JsonPropertyDescription("Bytes of change data per destination write: batches are cut by size as well as by rows"
        + " (worker default 16777216).")
    public Long maxBytes;
  }
}
