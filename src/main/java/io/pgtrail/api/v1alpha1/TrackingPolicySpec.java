package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Required;
import java.util.ArrayList;
import java.util.List;

/**
 * Tables to track in one source: {@code allTables}, or the union of {@code schemas} and {@code tables},
 * minus {@code excludeTables}. Neither given means the {@code public} schema.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrackingPolicySpec implements LenientSpec.Decoded {
  /** Fields the operator could not decode (see {@link LenientSpec}); never part of the CRD. */
  @JsonIgnore
  private final transient java.util.List<String> invalidFields = new java.util.ArrayList<>();

  @Override
  public java.util.List<String> invalidFields() {
    return invalidFields;
  }

  @Required
  @JsonPropertyDescription("The SourceDatabase (same namespace) whose tables this policy tracks.")
  public LocalObjectRef sourceRef;

  @JsonPropertyDescription("Track every table of the database (schemas and tables are then ignored).")
  @Default("false")
  public Boolean allTables = false;

  @JsonPropertyDescription("Schemas whose tables are all tracked.")
  public List<String> schemas = new ArrayList<>();

  @JsonPropertyDescription("Individual tables, as schema.table or table (schema public).")
  public List<String> tables = new ArrayList<>();

  @JsonPropertyDescription("Tables left out even though a schema or allTables covers them.")
  public List<String> excludeTables = new ArrayList<>();

  @JsonPropertyDescription("Ignore-change columns (table.column, schema.table.column or *.column): an UPDATE that"
      + " changes only these is not recorded; other changes are recorded in full, these columns included.")
  public List<String> ignoreColumns = new ArrayList<>();

  @JsonPropertyDescription("Start tracking tables created later in the covered schemas (an event trigger).")
  @Default("true")
  public Boolean trackNewTables = true;

  @JsonPropertyDescription("Install Bemi-compatible context triggers so application context reaches each change.")
  @Default("false")
  public Boolean captureContext = false;
}
