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

/** A PostgreSQL database whose changes pgtrail records into a destination {@code changes} table. */
@Group(SourceDatabase.GROUP)
@Version(SourceDatabase.VERSION)
@Kind("SourceDatabase")
@Singular("sourcedatabase")
@Plural("sourcedatabases")
@ShortNames({"sdb", "pgsource"})
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Reason", jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Provider", jsonPath = ".spec.provider",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Tables", jsonPath = ".status.trackedTableCount",
    type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Lag", jsonPath = ".status.slot.retainedWal",
    type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp",
    type = AdditionalPrinterColumn.Type.DATE)
public class SourceDatabase extends CustomResource<SourceDatabaseSpec, SourceDatabaseStatus>
    implements Namespaced {
  public static final String GROUP = "pgtrail.io";
  public static final String VERSION = "v1alpha1";

  /** Decoded leniently: a field this operator cannot read is reported on this object, not fatal to the informer. */
  @Override
  @JsonDeserialize(using = LenientSpec.ForSourceDatabase.class)
  public void setSpec(SourceDatabaseSpec spec) {
    super.setSpec(spec);
  }

  @Override
  protected SourceDatabaseStatus initStatus() {
    return new SourceDatabaseStatus();
  }
}
