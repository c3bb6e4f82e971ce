package io.pgtrail.kube;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Permissions as "group resource[/subresource] verb" strings ("core" for the legacy group), read from RBAC
 * rules (what the chart grants) and from audit events (what a user actually did).
 */
final class Permissions {
  /** Requests every authenticated user may make (system:basic-user, system:discovery): not the chart's concern. */
  private static final Set<String> ALWAYS_ALLOWED_GROUPS = Set.of("authorization.k8s.io", "authentication.k8s.io");

  private Permissions() {}

  /** What the rules of the rendered Roles and ClusterRoles grant (no wildcards expected: least privilege). */
  static Set<String> granted(List<JsonNode> renderedManifests) {
    Set<String> permissions = new TreeSet<>();
    for (JsonNode manifest : renderedManifests) {
      String kind = manifest.path("kind").asText();
      if (!kind.equals("Role") && !kind.equals("ClusterRole")) {
        continue;
      }
      for (JsonNode rule : manifest.path("rules")) {
        for (JsonNode group : rule.path("apiGroups")) {
          for (JsonNode resource : rule.path("resources")) {
            for (JsonNode verb : rule.path("verbs")) {
              permissions.add(permission(group.asText(), resource.asText(), verb.asText()));
            }
          }
        }
      }
    }
    return permissions;
  }

  /** The resource requests {@code username} made (allowed or not), from Metadata-level audit events. */
  static Set<String> requested(List<JsonNode> auditEvents, String username) {
    return fromAudit(auditEvents, username, false);
  }

  /** The resource requests of {@code username} that RBAC refused (HTTP 403). */
  static Set<String> forbidden(List<JsonNode> auditEvents, String username) {
    return fromAudit(auditEvents, username, true);
  }

  private static Set<String> fromAudit(List<JsonNode> auditEvents, String username, boolean onlyForbidden) {
    Set<String> permissions = new TreeSet<>();
    for (JsonNode event : auditEvents) {
      JsonNode object = event.path("objectRef");
      if (!username.equals(event.path("user").path("username").asText()) || object.isMissingNode()
          || ALWAYS_ALLOWED_GROUPS.contains(object.path("apiGroup").asText())) {
        continue;
      }
      boolean refused = event.path("responseStatus").path("code").asInt() == 403;
      if (onlyForbidden && !refused) {
        continue;
      }
      String resource = object.path("resource").asText()
          + (object.hasNonNull("subresource") ? "/" + object.path("subresource").asText() : "");
      permissions.add(permission(object.path("apiGroup").asText(""), resource, event.path("verb").asText()));
    }
    return permissions;
  }

  static String permission(String group, String resource, String verb) {
    return (group.isEmpty() ? "core" : group) + " " + resource + " " + verb;
  }
}
