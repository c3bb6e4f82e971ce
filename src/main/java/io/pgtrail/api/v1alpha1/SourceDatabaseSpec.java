package io.pgtrail.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!has(oldSelf.slotName) || (has(self.slotName) && self.slotName == oldSelf.slotName)",
    message = "slotName cannot change: a new slot would skip changes; create a new SourceDatabase instead")
@ValidationRule(
    value = "!has(oldSelf.publicationName) || (has(self.publicationName) && self.publicationName == oldSelf.publicationName)",
    message = "publicationName cannot change in place; create a new SourceDatabase instead")
@ValidationRule(value = "!has(self.credentials) || !has(self.credentials.mode) || self.credentials.mode != 'managedRole'"
    + " || !(self.provider in ['supabase', 'render', 'timescale'])",
    message = "supabase, render and timescale do not allow creating REPLICATION roles: use credentials.mode provided")
public class SourceDatabaseSpec implements LenientSpec.Decoded {
  /** Fields the operator could not decode (see {@link LenientSpec}); never part of the CRD. */
  @JsonIgnore
  private final transient java.util.List<String> invalidFields = new java.util.ArrayList<>();

  @Override
  public java.util.List<String> invalidFields() {
    return invalidFields;
  }

  public static final String NAME_PATTERN = "^[a-z0-9_]{1,63}$";

  @Required
  @JsonPropertyDescription("How the operator and the worker reach the source database.")
  public SourceConnectionSpec connection;

  @Required
  @JsonPropertyDescription("Where the database runs: decides how replication rights are granted and the fix-it advice.")
  public ProviderSpec provider;

  @JsonPropertyDescription("Which role reads the changes: the given user, or a least-privilege role the operator creates.")
  public CredentialsSpec credentials = new CredentialsSpec();

  @JsonPropertyDescription("Reach the database through an SSH jump host.")
  public SshTunnelSpec sshTunnel;

  @Required
  @JsonPropertyDescription("The PostgreSQL database that receives the changes table.")
  public DestinationEndpointSpec destination;

  @Pattern(NAME_PATTERN)
  @JsonPropertyDescription("Publication name (default: pgtrail_<namespace>_<name>, shortened and sanitized). Immutable.")
  public String publicationName;

  @Pattern(NAME_PATTERN)
  @JsonPropertyDescription("Logical replication slot name (default: as publicationName). Immutable.")
  public String slotName;

  @Default("true")
  @JsonPropertyDescription("Create the slot with failover (PostgreSQL 17+): standbys with sync_replication_slots keep"
      + " a copy, so tracking continues after a promotion. Ignored before PostgreSQL 17. See docs/high-availability.md.")
  public Boolean failoverSlot = true;

  @JsonPropertyDescription("The replication worker Deployment.")
  public WorkerSpec worker = new WorkerSpec();

  @Default("retain")
  @JsonPropertyDescription("On deletion: retain keeps slot and publication; delete drops them when pgtrail owns them.")
  public ReclaimPolicy reclaimPolicy = ReclaimPolicy.RETAIN;

  @JsonPropertyDescription("Alarm threshold for WAL retained by the slot (e.g. 10Gi): SlotHealthy=False above it.")
  public Quantity maxRetainedWal;
}
