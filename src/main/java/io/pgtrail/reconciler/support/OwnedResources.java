package io.pgtrail.reconciler.support;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Creates or updates objects the operator owns. An object is rewritten only when its desired-state
 * hash (an annotation over everything pgtrail sets) differs, so a resync with nothing to change makes
 * no writes. Works without server-side apply (the mock API server lacks it).
 */
public final class OwnedResources {
  public static final String DESIRED_HASH = "pgtrail.io/desired-hash";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "pgtrail-operator";
  /** Every object the operator creates says which pgtrail version created or last updated it. */
  public static final String VERSION = "app.kubernetes.io/version";

  public enum Outcome { CREATED, UPDATED, UNCHANGED }

  private OwnedResources() {}

  public static OwnerReference ownerReference(HasMetadata owner) {
    return new OwnerReferenceBuilder()
        .withApiVersion(owner.getApiVersion())
        .withKind(owner.getKind())
        .withName(owner.getMetadata().getName())
        .withUid(owner.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /** Stamps owner reference and desired-state hash, then creates or updates. */
  public static <T extends HasMetadata> Outcome apply(KubernetesClient client, HasMetadata owner, T desired,
      String desiredStateText) {
    desired.getMetadata().setNamespace(owner.getMetadata().getNamespace());
    desired.getMetadata().setOwnerReferences(java.util.List.of(ownerReference(owner)));
    Map<String, String> annotations = new HashMap<>(
        desired.getMetadata().getAnnotations() == null ? Map.of() : desired.getMetadata().getAnnotations());
    String hash = Hashing.sha256(desiredStateText).substring(0, 16);
    annotations.put(DESIRED_HASH, hash);
    desired.getMetadata().setAnnotations(annotations);

    T existing = client.resource(desired).get();
    if (existing == null) {
      client.resource(desired).create();
      return Outcome.CREATED;
    }
    String existingHash = existing.getMetadata().getAnnotations() == null ? null
        : existing.getMetadata().getAnnotations().get(DESIRED_HASH);
    if (Objects.equals(existingHash, hash)) {
      return Outcome.UNCHANGED;
    }
    desired.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
    client.resource(desired).update();
    return Outcome.UPDATED;
  }

  /**
   * Secrets are compared by content, never by a hash annotation (a digest of a password is still
   * material for guessing it). Returns the Secret as stored.
   */
  public static Secret applySecret(KubernetesClient client, HasMetadata owner, Secret desired) {
    desired.getMetadata().setNamespace(owner.getMetadata().getNamespace());
    desired.getMetadata().setOwnerReferences(java.util.List.of(ownerReference(owner)));
    Secret existing = client.resource(desired).get();
    if (existing == null) {
      return client.resource(desired).create();
    }
    if (Objects.equals(existing.getData(), desired.getData())
        && Objects.equals(existing.getMetadata().getLabels(), desired.getMetadata().getLabels())
        && Objects.equals(existing.getMetadata().getOwnerReferences(), desired.getMetadata().getOwnerReferences())) {
      return existing;
    }
    desired.getMetadata().setResourceVersion(existing.getMetadata().getResourceVersion());
    return client.resource(desired).update();
  }
}
