package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Real-API-server tier: what server-side apply does with pgtrail's custom resources, the evidence for the
 * question whether production should go back to JOSDK's SSA defaults (they were switched off because the
 * Fabric8 mock answers an apply patch with 415). See docs/testing.md for the conclusion.
 */
@Tag("kube-apiserver")
@ExtendWith(KubeBinaries.Required.class)
class ApiServerSsaTest {
  static final String NAMESPACE = "ssa";
  static final String OPERATOR = "sourcedatabasereconciler";
  static ApiRequests admin;

  @BeforeAll
  static void start() {
    KubeApiServer server = ClusterManifests.clusterWithCrds(NAMESPACE);
    admin = new ApiRequests(server, server.adminToken());
  }

  static ObjectNode created(String name) {
    ObjectNode source = ApiServerSchemaTest.source(name, spec -> { });
    ApiRequests.Response response = admin.create(source, NAMESPACE, false);
    assertThat(response.succeeded()).as(response.message()).isTrue();
    return (ObjectNode) response.body();
  }

  /** A status-only apply configuration: apiVersion, kind, name and the given status. */
  static ObjectNode statusApply(JsonNode resource, ObjectNode status) {
    ObjectNode apply = ApiRequests.JSON.createObjectNode();
    apply.put("apiVersion", resource.path("apiVersion").asText()).put("kind", resource.path("kind").asText());
    apply.putObject("metadata").put("name", resource.path("metadata").path("name").asText());
    apply.set("status", status);
    return apply;
  }

  static ObjectNode status(String... conditionTypes) {
    ObjectNode status = ApiRequests.JSON.createObjectNode();
    ArrayNode conditions = status.putArray("conditions");
    for (String type : conditionTypes) {
      conditions.addObject().put("type", type).put("status", "True").put("reason", type)
          .put("lastTransitionTime", "2026-01-01T00:00:00Z");
    }
    return status;
  }

  @Test
  void anApplierOwnsTheStatusItWritesAndFieldsItStopsSendingArePruned() {
    ObjectNode source = created("ssa-owned");
    ObjectNode first = status("Connected", "Ready");
    first.putObject("slot").put("walStatus", "reserved");
    ApiRequests.Response applied = admin.apply(statusApply(source, first), NAMESPACE, "status", OPERATOR, true);
    assertThat(applied.succeeded()).as(applied.message()).isTrue();
    assertThat(applied.body().path("status").path("conditions")).hasSize(2);

    ApiRequests.Response second = admin.apply(statusApply(source, status("Ready")), NAMESPACE, "status", OPERATOR, true);
    assertThat(second.succeeded()).as(second.message()).isTrue();
    JsonNode stored = second.body();
    assertThat(stored.path("status").path("conditions")).hasSize(1);
    assertThat(stored.path("status").has("slot")).as("slot pruned: only its applier owned it").isFalse();
    // the spec is untouched by a status apply
    assertThat(stored.path("spec")).isEqualTo(source.path("spec"));
    // conditions carry no x-kubernetes-list-type: the list is atomic, owned whole by one manager
    assertThat(managedFields(stored, OPERATOR).path("f:status").path("f:conditions").isEmpty()).isTrue();
  }

  @Test
  void fieldsWrittenByAnUpdateSurviveALaterApplyThatOmitsThem() {
    ObjectNode source = created("ssa-migration");
    // today's production path: a status replace (PUT .../status) writes slot under an Update manager
    ObjectNode withSlot = source.deepCopy();
    withSlot.set("status", status("Ready"));
    ((ObjectNode) withSlot.path("status")).putObject("slot").put("walStatus", "lost");
    ApiRequests.Response updated = admin.replaceStatus(withSlot, NAMESPACE);
    assertThat(updated.succeeded()).as(updated.message()).isTrue();

    // after a switch to SSA, the applier's status without slot does not remove the updater's slot
    ApiRequests.Response applied = admin.apply(statusApply(source, status("Ready")), NAMESPACE, "status", OPERATOR, true);
    assertThat(applied.succeeded()).as(applied.message()).isTrue();
    assertThat(applied.body().path("status").path("slot").path("walStatus").asText())
        .as("a stale field left behind by the migration from Update to Apply").isEqualTo("lost");
  }

  static JsonNode managedFields(JsonNode resource, String manager) {
    for (JsonNode entry : resource.path("metadata").path("managedFields")) {
      if (entry.path("manager").asText().equals(manager) && entry.path("subresource").asText().equals("status")) {
        return entry.path("fieldsV1");
      }
    }
    throw new AssertionError("no managedFields entry of " + manager + " in " + resource.path("metadata"));
  }
}
