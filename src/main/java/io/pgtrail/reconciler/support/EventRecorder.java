package io.pgtrail.reconciler.support;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.MicroTime;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.pgtrail.BuildVersion;
import io.pgtrail.api.v1alpha1.status.Reason;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes core/v1 Events about pgtrail resources; the reason is an enum-backed CamelCase word. */
public final class EventRecorder {
  public static final String COMPONENT = "pgtrail-operator";
  private static final Logger LOG = LoggerFactory.getLogger(EventRecorder.class);
  /** The API server reads eventTime as RFC 3339 with exactly six fraction digits. */
  private static final java.time.format.DateTimeFormatter MICRO_TIME =
      java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX").withZone(java.time.ZoneOffset.UTC);
  /** The API server limits an Event's note to 1024 bytes. */
  private static final int MAX_MESSAGE = 1024;

  public enum Type { Normal, Warning }

  private final KubernetesClient client;

  public EventRecorder(KubernetesClient client) {
    this.client = client;
  }

  public void normal(HasMetadata about, Reason reason, String message) {
    record(about, Type.Normal, reason.camelCase(), message);
  }

  public void warning(HasMetadata about, Reason reason, String message) {
    record(about, Type.Warning, reason.camelCase(), message);
  }

  /** For reasons that come from the PostgreSQL engine's own enums (preflight checks, connection failures). */
  public void record(HasMetadata about, Type type, String reason, String message) {
    String text = truncate(message == null ? "" : message);
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    var event = new EventBuilder()
        .withNewMetadata()
          .withName(about.getMetadata().getName() + "." + UUID.randomUUID().toString().substring(0, 13).replace("-", ""))
          .withNamespace(about.getMetadata().getNamespace())
          .addToLabels("app.kubernetes.io/managed-by", COMPONENT)
          .addToLabels(OwnedResources.VERSION, BuildVersion.current().version())
        .endMetadata()
        .withNewInvolvedObject()
          .withApiVersion(about.getApiVersion())
          .withKind(about.getKind())
          .withName(about.getMetadata().getName())
          .withNamespace(about.getMetadata().getNamespace())
          .withUid(about.getMetadata().getUid())
          .withResourceVersion(about.getMetadata().getResourceVersion())
        .endInvolvedObject()
        .withType(type.name())
        .withReason(reason)
        .withMessage(text)
        .withAction(type == Type.Warning ? "Reconcile" : "Reconciled")
        .withReportingComponent(COMPONENT)
        .withReportingInstance(ReportingInstance.NAME)
        .withNewSource(COMPONENT, null)
        .withFirstTimestamp(now)
        .withLastTimestamp(now)
        .withEventTime(new MicroTime(MICRO_TIME.format(Instant.now())))
        .withCount(1)
        .build();
    LOG.info("{} event {} on {} {}/{}: {}", type, reason, about.getKind(), about.getMetadata().getNamespace(),
        about.getMetadata().getName(), text);
    try {
      client.v1().events().inNamespace(about.getMetadata().getNamespace()).resource(event).create();
    } catch (KubernetesClientException e) {
      // an Event is best effort: failing to record one must not fail the reconcile
      LOG.warn("cannot record event {} for {}: {}", reason, about.getMetadata().getName(), e.getMessage());
    }
  }

  static String truncate(String message) {
    byte[] bytes = message.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (bytes.length <= MAX_MESSAGE) {
      return message;
    }
    String cut = new String(bytes, 0, MAX_MESSAGE - 3, java.nio.charset.StandardCharsets.UTF_8);
    // a cut through a multi-byte character decodes to U+FFFD: drop it
    return cut.replaceAll("\uFFFD$", "") + "...";
  }

  /** The pod name (HOSTNAME) when running in a cluster. */
  static final class ReportingInstance {
    static final String NAME = System.getenv().getOrDefault("HOSTNAME", "local").toLowerCase(Locale.ROOT);

    private ReportingInstance() {}
  }
}
