package io.pgtrail.helm;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.introspect.Annotated;
import com.fasterxml.jackson.databind.introspect.AnnotatedMethod;
import com.fasterxml.jackson.databind.introspect.JacksonAnnotationIntrospector;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.openshift.api.model.monitoring.v1.ServiceMonitor;
import java.io.IOException;
import java.util.Map;

/**
 * Offline, strict check of rendered manifests against the Kubernetes API types.
 *
 * <p>The types are Fabric8's generated models (already on the classpath, so no extra dependency;
 * {@code io.kubernetes:client-java} would add about 38 MB in 34 jars, with clashing Jackson and
 * Bouncy Castle versions). Fabric8 models accept any unknown field into an
 * {@code additionalProperties} map through {@code @JsonAnySetter}; this mapper switches that off, so
 * an unknown or misspelt field anywhere in the tree fails, as do a scalar of the wrong type (a
 * number where Kubernetes wants a string, a quoted boolean) and duplicate keys. Required fields are
 * not known to these models: the tests assert the ones that matter.
 */
final class StrictKubernetesSchema {

  /** Every kind the chart may render, by apiVersion/kind. An unknown kind is an error, not a pass. */
  private static final Map<String, Class<? extends HasMetadata>> TYPES = Map.ofEntries(
      Map.entry("v1/ServiceAccount", ServiceAccount.class),
      Map.entry("v1/Service", Service.class),
      Map.entry("apps/v1/Deployment", Deployment.class),
      Map.entry("rbac.authorization.k8s.io/v1/ClusterRole", ClusterRole.class),
      Map.entry("rbac.authorization.k8s.io/v1/ClusterRoleBinding", ClusterRoleBinding.class),
      Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
      Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
      Map.entry("networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class),
      Map.entry("monitoring.coreos.com/v1/ServiceMonitor", ServiceMonitor.class),
      Map.entry("monitoring.coreos.com/v1/PodMonitor", io.fabric8.openshift.api.model.monitoring.v1.PodMonitor.class),
      Map.entry("monitoring.coreos.com/v1/PrometheusRule",
          io.fabric8.openshift.api.model.monitoring.v1.PrometheusRule.class),
      Map.entry("v1/ConfigMap", io.fabric8.kubernetes.api.model.ConfigMap.class),
      Map.entry("apiextensions.k8s.io/v1/CustomResourceDefinition", CustomResourceDefinition.class));

  private static final ObjectMapper STRICT = strictMapper();

  private StrictKubernetesSchema() {}

  /** Thrown when a manifest does not fit its Kubernetes type. */
  static final class InvalidManifestException extends RuntimeException {
    InvalidManifestException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * Reads {@code manifest} into its Kubernetes type, strictly.
   *
   * @throws InvalidManifestException naming the manifest and the offending field
   */
  static HasMetadata validate(JsonNode manifest) {
    String apiVersion = manifest.path("apiVersion").asText("");
    String kind = manifest.path("kind").asText("");
    String key = apiVersion + "/" + kind;
    Class<? extends HasMetadata> type = TYPES.get(key);
    if (type == null) {
      throw new InvalidManifestException("no Kubernetes type known for " + key + " ("
          + describe(manifest) + "): add it to StrictKubernetesSchema if the chart really renders it", null);
    }
    try {
      HasMetadata resource = STRICT.treeToValue(manifest, type);
      if (resource.getMetadata() == null || isBlank(resource.getMetadata().getName())) {
        throw new InvalidManifestException(describe(manifest) + " has no metadata.name", null);
      }
      return resource;
    } catch (IOException e) {
      throw new InvalidManifestException(describe(manifest) + " does not fit " + type.getName() + ": "
          + e.getMessage(), e);
    }
  }

  static <T extends HasMetadata> T validate(JsonNode manifest, Class<T> type) {
    return type.cast(validate(manifest));
  }

  static String describe(JsonNode manifest) {
    return manifest.path("kind").asText("?") + " " + manifest.path("metadata").path("namespace").asText("")
        + "/" + manifest.path("metadata").path("name").asText("?");
  }

  private static boolean isBlank(String value) {
    return value == null || value.isBlank();
  }

  private static ObjectMapper strictMapper() {
    JsonMapper mapper = JsonMapper.builder()
        .annotationIntrospector(new WithoutAnySetter())
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .enable(DeserializationFeature.FAIL_ON_INVALID_SUBTYPE)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .build();
    // Kubernetes rejects `value: 8080` where a string belongs (env values, annotations, labels).
    mapper.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return mapper;
  }

  /** Ignores {@code @JsonAnySetter}, so unknown fields are unknown again. */
  private static final class WithoutAnySetter extends JacksonAnnotationIntrospector {
    @Override
    public Boolean hasAnySetter(Annotated annotated) {
      return Boolean.FALSE;
    }

    @Override
    @SuppressWarnings("deprecation")
    public boolean hasAnySetterAnnotation(AnnotatedMethod method) {
      return false;
    }
  }
}
