package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** What happens to the slot and publication when the SourceDatabase is deleted. */
public enum ReclaimPolicy {
  @JsonProperty("retain") RETAIN,
  @JsonProperty("delete") DELETE
}
