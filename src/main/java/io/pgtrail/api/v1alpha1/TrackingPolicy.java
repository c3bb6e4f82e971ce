package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/** Which tables of a {@link SourceDatabase} are tracked; several policies add up (their union). */
@Group(SourceDatabase.GROUP)
@Version(SourceDatabase.VERSION)
@Kind("TrackingPolicy")
@Singular("trackingpolicy")
@Plural("trackingpolicies")
@ShortNames({"tp", "pgpolicy"})
@AdditionalPrinterColumn(name = "Source", jsonPath = ".spec.sourceRef.name",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Reason", jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Tables", jsonPath = ".status.trackedTableCount",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class TrackingPolicy extends CustomResource<TrackingPolicySpec, TrackingPolicyStatus>
    implements Namespaced {
  /** Decoded leniently: a field this operator cannot read is reported on this object, not fatal to the informer. */
  @Override
  @JsonDeserialize(using = LenientSpec.ForTrackingPolicy.class)
  public void setSpec(TrackingPolicySpec spec) {
    super.setSpec(spec);
  }

  @Override
  protected TrackingPolicyStatus initStatus() {
    return new TrackingPolicyStatus();
  }
}
