package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

/** The destination database, and how its changes table is kept (docs/store.md). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class DestinationEndpointSpec extends PostgresEndpointSpec {
  /** The period one partition of a new changes table covers. */
  public enum PartitionBy {
    @JsonProperty("daily") DAILY,
    @JsonProperty("weekly") WEEKLY,
    @JsonProperty("monthly") MONTHLY,
    @JsonProperty("none") NONE
  }

  /** What retention does with an expired partition. */
  public enum RetentionMode {
    @JsonProperty("drop") DROP,
    @JsonProperty("detach") DETACH
  }

  @JsonPropertyDescription("Partitions of a new changes table, by committed_at: daily, weekly, monthly or none"
      + " (worker default weekly). An existing table is kept as it is (pgtrail store convert partitions it).")
  public PartitionBy partitionBy;

  @Min(0)
  @Max(60)
  @JsonPropertyDescription("Partitions created ahead of the current one (worker default 2).")
  public Integer partitionsAhead;

  @Pattern("^([1-9][0-9]{0,5}[dw]|none)$")
  @JsonPropertyDescription("How long changes are kept, e.g. 90d or 12w (default none: forever). Whole partitions"
      + " older than this are removed, never single rows.")
  public String retention;

  @JsonPropertyDescription("drop (default) or detach expired partitions; detached ones stay as plain tables to"
      + " archive.")
  public RetentionMode retentionMode;
}
