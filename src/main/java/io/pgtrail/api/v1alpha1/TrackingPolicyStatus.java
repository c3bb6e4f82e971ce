package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrackingPolicyStatus {
  public Long observedGeneration;
  public List<Condition> conditions = new ArrayList<>();
  public Integer trackedTableCount;
  /** The source's tracked tables this policy covers (schema.table), at most 500 listed. */
  public List<String> trackedTables;
}
