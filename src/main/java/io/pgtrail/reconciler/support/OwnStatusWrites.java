package io.pgtrail.reconciler.support;

import io.fabric8.kubernetes.client.CustomResource;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The statuses this operator wrote, kept until the informer cache shows them. Status fields serve as
 * memory (a pinned SSH host key, the slot name, the applied policies): a reconcile that starts from a
 * cache which has not yet seen the last status write would forget them. A read is stale exactly when
 * the cached object still has the resourceVersion the last write was based on.
 */
public final class OwnStatusWrites<S> {
  private record Write(String basedOn, Object status) {}

  private final Map<String, Write> writes = new ConcurrentHashMap<>();

  /** The status to start a reconcile from: ours when the cache has not caught up with our last write. */
  @SuppressWarnings("unchecked")
  public S current(CustomResource<?, S> resource) {
    String uid = resource.getMetadata().getUid();
    Write last = writes.get(uid);
    if (last != null && last.basedOn().equals(resource.getMetadata().getResourceVersion())) {
      return (S) last.status();
    }
    writes.remove(uid);
    return resource.getStatus();
  }

  /** Records a status written on top of {@code resource} as read. */
  public void wrote(CustomResource<?, S> resource, S status) {
    if (resource.getMetadata().getResourceVersion() != null) {
      writes.put(resource.getMetadata().getUid(), new Write(resource.getMetadata().getResourceVersion(), status));
    }
  }

  public void forget(CustomResource<?, S> resource) {
    writes.remove(resource.getMetadata().getUid());
  }
}
