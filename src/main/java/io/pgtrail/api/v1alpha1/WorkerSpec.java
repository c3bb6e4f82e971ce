package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.ResourceRequirements;

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

  @Min(1024)
  @Max(65535)
  @JsonPropertyDescription("Port of /healthz, /readyz and /metrics (default 9090).")
  public Integer metricsPort;
}
