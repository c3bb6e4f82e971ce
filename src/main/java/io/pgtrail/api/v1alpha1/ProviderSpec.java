package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Where the source database runs; the ids match the engine's provider ids. */
public enum ProviderSpec {
  @JsonProperty("selfManaged") SELF_MANAGED("selfManaged"),
  @JsonProperty("awsRds") AWS_RDS("awsRds"),
  @JsonProperty("gcpCloudSql") GCP_CLOUD_SQL("gcpCloudSql"),
  @JsonProperty("supabase") SUPABASE("supabase"),
  @JsonProperty("neon") NEON("neon"),
  @JsonProperty("render") RENDER("render"),
  @JsonProperty("digitalOcean") DIGITAL_OCEAN("digitalOcean"),
  @JsonProperty("azure") AZURE("azure"),
  @JsonProperty("timescale") TIMESCALE("timescale");

  private final String id;

  ProviderSpec(String id) {
    this.id = id;
  }

  public String id() {
    return id;
  }
}
