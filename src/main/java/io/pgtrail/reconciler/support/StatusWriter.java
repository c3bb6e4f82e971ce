package io.pgtrail.reconciler.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a freshly built status through the status subresource, and only when it differs from the one
 * the resource carries. The whole status is replaced (no merge), so stale list entries cannot survive.
 */
public final class StatusWriter {
  private static final Logger LOG = LoggerFactory.getLogger(StatusWriter.class);
  private static final ObjectMapper JSON = Serialization.jsonMapper();

  private StatusWriter() {}

  /** Returns true when it wrote. */
  public static <S, R extends CustomResource<?, S>> boolean writeIfChanged(KubernetesClient client, R resource,
      S freshStatus, Class<R> type) {
    JsonNode before = JSON.valueToTree(resource.getStatus());
    JsonNode after = JSON.valueToTree(freshStatus);
    if (Objects.equals(before, after)) {
      return false;
    }
    R copy = JSON.convertValue(JSON.valueToTree(resource), type);
    copy.setStatus(freshStatus);
    copy.getMetadata().setManagedFields(null);
    // last writer wins: the status was just rebuilt from observation, so a lost race only delays facts
    copy.getMetadata().setResourceVersion(null);
    try {
      client.resources(type).inNamespace(resource.getMetadata().getNamespace()).resource(copy).updateStatus();
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      // deleted while it was being reconciled: nothing left to report on
      LOG.debug("{} {}/{} is gone; status not written", resource.getKind(), resource.getMetadata().getNamespace(),
          resource.getMetadata().getName());
      return false;
    }
    LOG.debug("status of {} {}/{} updated", resource.getKind(), resource.getMetadata().getNamespace(),
        resource.getMetadata().getName());
    return true;
  }
}
