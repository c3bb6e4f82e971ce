package io.pgtrail.reconciler.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Creates objects the operator owns and keeps them as pgtrail wants them. The stored object (read from
 * an informer cache) is compared field by field with the desired one ({@link OwnedFields}): labels,
 * the Deployment's spec (replicas, pod template), ConfigMap and Secret data. Any difference is written
 * back. Whether it was pgtrail's own desire that changed (an update) or the object that was changed
 * by someone else (drift) is told apart by the desired-state hash: an annotation on Deployments and
 * ConfigMaps, an in-memory record for Secrets (a digest of a password is still material for guessing
 * it, so it is never stored in the cluster). Works without server-side apply (the mock API server lacks it).
 */
public final class OwnedResources {
  public static final String DESIRED_HASH = "pgtrail.io/desired-hash";
  public static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  public static final String MANAGER = "pgtrail-operator";
  /** Every object the operator creates says which pgtrail version created or last updated it. */
  public static final String VERSION = "app.kubernetes.io/version";
  private static final ObjectMapper JSON = Serialization.jsonMapper();

  public enum Outcome { CREATED, UPDATED, REPAIRED, UNCHANGED }

  /** What apply did: the object as stored, and for a repair the fields that had drifted. */
  public record Applied<T>(T stored, Outcome outcome, List<String> drifted) {
    public boolean changed() {
      return outcome != Outcome.UNCHANGED;
    }
  }

  /** Where the operator reads its owned objects from, and tells about its own writes. */
  public interface Cache<T extends HasMetadata> {
    Optional<T> get(String namespace, String name);

    default void written(T stored, T previous) {}
  }

  /** An informer's cache; own writes are put into it so the next read is not stale. */
  public static <T extends HasMetadata> Cache<T> cacheOf(InformerEventSource<T, ?> informer) {
    return new Cache<>() {
      @Override
      public Optional<T> get(String namespace, String name) {
        return informer.get(new ResourceID(name, namespace));
      }

      @Override
      public void written(T stored, T previous) {
        if (previous == null) {
          informer.handleRecentResourceCreate(ResourceID.fromResource(stored), stored);
        } else {
          informer.handleRecentResourceUpdate(ResourceID.fromResource(stored), stored, previous);
        }
      }
    };
  }

  /** Reads with a GET (tests of single steps, and objects no informer holds). */
  public static <T extends HasMetadata> Cache<T> uncached(KubernetesClient client, Class<T> type) {
    return (namespace, name) -> Optional.ofNullable(client.resources(type).inNamespace(namespace).withName(name).get());
  }

  private final KubernetesClient client;
  /** Hash of the Secret data last written per object (memory only; tells a rotation from an edit). */
  private final Map<String, String> secretWrites = new ConcurrentHashMap<>();

  public OwnedResources(KubernetesClient client) {
    this.client = client;
  }

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

  /** Deployments and ConfigMaps: owner reference and desired-state hash stamped, then created, updated or repaired. */
  public <T extends HasMetadata> Applied<T> apply(HasMetadata owner, T desired, Cache<T> cache) {
    return apply(owner, desired, cache, null);
  }

  /**
   * As {@link #apply(HasMetadata, HasMetadata, Cache)}; {@code desiredBefore} is what pgtrail wanted before an
   * input it does not control changed (e.g. the worker Secret's version in the pod template's config hash).
   * When the stored object was made from it, what else differs is drift, reported even though the object
   * is also updated.
   */
  public <T extends HasMetadata> Applied<T> apply(HasMetadata owner, T desired, Cache<T> cache, T desiredBefore) {
    String hash = stampWithHash(owner, desired);
    Optional<T> existing = cache.get(desired.getMetadata().getNamespace(), desired.getMetadata().getName());
    if (existing.isEmpty()) {
      Optional<T> created = create(desired, cache);
      if (created.isPresent()) {
        return new Applied<>(created.get(), Outcome.CREATED, List.of());
      }
      existing = Optional.of(client.resource(desired).get());
    }
    T actual = existing.get();
    List<String> differences = OwnedFields.differences(owned(desired), owned(actual), List.of("data"));
    if (differences.isEmpty()) {
      return new Applied<>(actual, Outcome.UNCHANGED, List.of());
    }
    String storedHash = actual.getMetadata().getAnnotations() == null ? null
        : actual.getMetadata().getAnnotations().get(DESIRED_HASH);
    List<String> drifted = List.of();
    if (hash.equals(storedHash)) {
      drifted = withoutHash(differences);
    } else if (desiredBefore != null && stampWithHash(owner, desiredBefore).equals(storedHash)) {
      drifted = withoutHash(OwnedFields.differences(owned(desiredBefore), owned(actual), List.of("data")));
    }
    T updated = update(desired, actual, cache);
    return drifted.isEmpty() ? new Applied<>(updated, Outcome.UPDATED, List.of())
        : new Applied<>(updated, Outcome.REPAIRED, drifted);
  }

  /** Stamps owner reference and the desired-state hash annotation; returns the hash. */
  private static String stampWithHash(HasMetadata owner, HasMetadata desired) {
    stamp(owner, desired);
    Map<String, String> annotations = new HashMap<>(
        desired.getMetadata().getAnnotations() == null ? Map.of() : desired.getMetadata().getAnnotations());
    annotations.remove(DESIRED_HASH);
    desired.getMetadata().setAnnotations(annotations);
    String hash = Hashing.sha256(owned(desired).toString()).substring(0, 16);
    annotations.put(DESIRED_HASH, hash);
    return hash;
  }

  /** Secrets: compared by content (data, type, labels, owner); see the class comment on hashes. */
  public Applied<Secret> applySecret(HasMetadata owner, Secret desired, Cache<Secret> cache) {
    stamp(owner, desired);
    String key = owner.getMetadata().getUid() + "/" + desired.getMetadata().getName();
    String hash = Hashing.sha256(owned(desired).toString());
    Optional<Secret> existing = cache.get(desired.getMetadata().getNamespace(), desired.getMetadata().getName());
    if (existing.isEmpty()) {
      Optional<Secret> created = create(desired, cache);
      if (created.isPresent()) {
        secretWrites.put(key, hash);
        return new Applied<>(created.get(), Outcome.CREATED, List.of());
      }
      existing = Optional.of(client.resource(desired).get());
    }
    Secret actual = existing.get();
    List<String> differences = OwnedFields.differences(owned(desired), owned(actual), List.of("data"));
    if (differences.isEmpty()) {
      secretWrites.putIfAbsent(key, hash);
      return new Applied<>(actual, Outcome.UNCHANGED, List.of());
    }
    boolean drift = hash.equals(secretWrites.get(key));
    Secret updated = update(desired, actual, cache);
    secretWrites.put(key, hash);
    return drift ? new Applied<>(updated, Outcome.REPAIRED, differences) : new Applied<>(updated, Outcome.UPDATED, List.of());
  }

  /** Forgets what was written for a deleted owner. */
  public void forget(HasMetadata owner) {
    secretWrites.keySet().removeIf(k -> k.startsWith(owner.getMetadata().getUid() + "/"));
  }

  /** Creates; empty when it exists after all (the cache had not seen it yet): the caller reads it once. */
  private <T extends HasMetadata> Optional<T> create(T desired, Cache<T> cache) {
    try {
      T created = client.resource(desired).create();
      cache.written(created, null);
      return Optional.of(created);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return Optional.empty();
      }
      throw e;
    }
  }

  private <T extends HasMetadata> T update(T desired, T actual, Cache<T> cache) {
    // optimistic lock on the version read: a concurrent change fails this write and the reconcile retries
    desired.getMetadata().setResourceVersion(actual.getMetadata().getResourceVersion());
    T updated = client.resource(desired).update();
    cache.written(updated, actual);
    return updated;
  }

  private static void stamp(HasMetadata owner, HasMetadata desired) {
    desired.getMetadata().setNamespace(owner.getMetadata().getNamespace());
    desired.getMetadata().setOwnerReferences(List.of(ownerReference(owner)));
  }

  /** The parts of an object pgtrail sets: labels, annotations, owner references, spec, data, type. */
  private static JsonNode owned(HasMetadata object) {
    JsonNode all = JSON.valueToTree(object);
    ObjectNode owned = JSON.createObjectNode();
    ObjectNode metadata = owned.putObject("metadata");
    for (String field : List.of("labels", "annotations", "ownerReferences")) {
      if (all.path("metadata").has(field)) {
        metadata.set(field, all.path("metadata").get(field));
      }
    }
    for (String field : List.of("spec", "data", "type")) {
      if (all.has(field)) {
        owned.set(field, all.get(field));
      }
    }
    return owned;
  }

  private static List<String> withoutHash(List<String> differences) {
    return differences.stream().filter(d -> !d.endsWith("'" + DESIRED_HASH + "'")).toList();
  }
}
