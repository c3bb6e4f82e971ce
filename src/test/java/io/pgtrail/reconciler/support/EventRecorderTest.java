package io.pgtrail.reconciler.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.testing.MockCluster;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class EventRecorderTest {
  @Test
  void eventsCarryWhatTheApiServerValidates() {
    try (MockCluster cluster = new MockCluster()) {
      SourceDatabase about = new SourceDatabase();
      about.setMetadata(new ObjectMetaBuilder().withName("s").withNamespace(MockCluster.NAMESPACE).withUid("u").build());
      new EventRecorder(cluster.client()).warning(about, Reason.CONFLICT, "é".repeat(2000));
      var event = cluster.events(about).get(0);
      assertThat(event.getEventTime().getTime()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}Z");
      assertThat(event.getMessage().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(1024);
      assertThat(event.getMessage()).endsWith("...").doesNotContain("\uFFFD");
      assertThat(event.getReason()).isEqualTo("Conflict");
      assertThat(event.getType()).isEqualTo("Warning");
      assertThat(event.getReportingComponent()).isEqualTo("pgtrail-operator");
      assertThat(event.getReportingInstance()).isNotBlank();
      assertThat(event.getAction()).isNotBlank();
      assertThat(event.getInvolvedObject().getKind()).isEqualTo("SourceDatabase");
      assertThat(event.getInvolvedObject().getNamespace()).isEqualTo(event.getMetadata().getNamespace());
    }
  }
}
