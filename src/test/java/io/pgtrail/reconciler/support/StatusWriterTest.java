package io.pgtrail.reconciler.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtrail.api.v1alpha1.LocalObjectRef;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.api.v1alpha1.TrackingPolicyStatus;
import io.pgtrail.testing.MockCluster;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Status goes through the status subresource, replaces the whole list, and is not rewritten unchanged. */
class StatusWriterTest {
  @Test
  void writesOnlyChangesAndReplacesConditions() {
    try (MockCluster cluster = new MockCluster()) {
      var client = cluster.client();
      TrackingPolicy policy = new TrackingPolicy();
      policy.setMetadata(new ObjectMetaBuilder().withName("p").withNamespace(MockCluster.NAMESPACE).build());
      policy.setSpec(new TrackingPolicySpec());
      policy.getSpec().sourceRef = new LocalObjectRef("s");
      policy = client.resource(policy).create();

      TrackingPolicyStatus first = new TrackingPolicyStatus();
      first.conditions = new Conditions(List.of(), 1L, Clock.systemUTC())
          .setFalse("SourceResolved", "SourceNotFound", "x").setFalse("Ready", "SourceNotFound", "x").list();
      assertThat(StatusWriter.writeIfChanged(client, policy, first, TrackingPolicy.class)).isTrue();
      TrackingPolicy stored = client.resource(policy).get();
      assertThat(stored.getStatus().conditions).hasSize(2);
      assertThat(stored.getSpec().sourceRef.name).isEqualTo("s");

      assertThat(StatusWriter.writeIfChanged(client, stored, copyOf(first), TrackingPolicy.class)).isFalse();

      TrackingPolicyStatus second = new TrackingPolicyStatus();
      second.conditions = new Conditions(first.conditions, 1L, Clock.systemUTC())
          .setTrue("Ready", "Ready", "ok").list();
      second.trackedTableCount = 3;
      assertThat(StatusWriter.writeIfChanged(client, stored, second, TrackingPolicy.class)).isTrue();
      TrackingPolicy after = client.resource(policy).get();
      assertThat(after.getStatus().conditions).singleElement()
          .satisfies(c -> assertThat(c.getType()).isEqualTo("Ready"));
      assertThat(after.getStatus().trackedTableCount).isEqualTo(3);
      assertThat(after.getMetadata().getGeneration()).isEqualTo(stored.getMetadata().getGeneration());
    }
  }

  @Test
  void anObjectDeletedMidReconcileIsNoError() {
    try (MockCluster cluster = new MockCluster()) {
      var client = cluster.client();
      TrackingPolicy policy = new TrackingPolicy();
      policy.setMetadata(new ObjectMetaBuilder().withName("gone").withNamespace(MockCluster.NAMESPACE).build());
      policy.setSpec(new TrackingPolicySpec());
      policy = client.resource(policy).create();
      client.resource(policy).delete();

      TrackingPolicyStatus status = new TrackingPolicyStatus();
      status.conditions = new Conditions(List.of(), 1L, Clock.systemUTC()).setTrue("Ready", "Ready", "ok").list();
      assertThat(StatusWriter.writeIfChanged(client, policy, status, TrackingPolicy.class)).isFalse();
    }
  }

  @Test
  void ownStatusWritesSurviveAStaleCacheRead() {
    OwnStatusWrites<TrackingPolicyStatus> writes = new OwnStatusWrites<>();
    TrackingPolicy cached = new TrackingPolicy();
    cached.setMetadata(new ObjectMetaBuilder().withName("p").withUid("u1").withResourceVersion("7").build());
    cached.setStatus(new TrackingPolicyStatus());
    TrackingPolicyStatus written = new TrackingPolicyStatus();
    written.trackedTableCount = 5;
    writes.wrote(cached, written);

    // the cache has not seen the write yet: same resourceVersion, old status
    assertThat(writes.current(cached)).isSameAs(written);
    // the cache caught up (or someone else changed the object): the cache is the truth again
    cached.getMetadata().setResourceVersion("8");
    assertThat(writes.current(cached)).isSameAs(cached.getStatus());
    cached.getMetadata().setResourceVersion("7");
    assertThat(writes.current(cached)).isSameAs(cached.getStatus());
  }

  private static TrackingPolicyStatus copyOf(TrackingPolicyStatus s) {
    TrackingPolicyStatus c = new TrackingPolicyStatus();
    c.conditions = List.copyOf(s.conditions);
    return c;
  }
}
