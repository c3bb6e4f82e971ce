package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.pgtrail.reconciler.support.OwnedResources.Cache;
import io.pgtrail.reconciler.support.OwnedResources;

/** Where the reconciler reads the objects it owns: the informer caches once the event sources exist. */
record OwnedCaches(Cache<Deployment> deployments, Cache<ConfigMap> configMaps, Cache<Secret> secrets) {
  static OwnedCaches uncached(KubernetesClient client) {
    return new OwnedCaches(OwnedResources.uncached(client, Deployment.class),
        OwnedResources.uncached(client, ConfigMap.class), OwnedResources.uncached(client, Secret.class));
  }
}
