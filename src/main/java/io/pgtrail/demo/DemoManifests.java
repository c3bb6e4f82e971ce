package io.pgtrail.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtrail.api.v1alpha1.PostgresEndpointSpec;
import io.pgtrail.api.v1alpha1.SecretKeysRef;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.postgres.connect.ConnectionSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The manifests of {@code k8s-examples/demo/}, packaged into the jar under {@value #RESOURCE_DIR}, and
 * how the demo fills in what only it knows: where its databases listen and the passwords it generated.
 */
final class DemoManifests {
  static final String RESOURCE_DIR = "io/pgtrail/demo/manifests/";
  /** In the order they are applied (Secrets first, the policy before the source it points at). */
  static final List<String> FILES = List.of("credentials.yaml", "tracking-policy.yaml", "source-database.yaml");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  final List<Secret> secrets = new ArrayList<>();
  final List<TrackingPolicy> policies = new ArrayList<>();
  SourceDatabase source;

  private DemoManifests() {}

  /** Reads the manifests from the classpath (works from the jar in any directory). */
  static DemoManifests load() {
    DemoManifests manifests = new DemoManifests();
    for (String file : FILES) {
      for (JsonNode doc : documents(RESOURCE_DIR + file)) {
        manifests.add(file, doc);
      }
    }
    if (manifests.source == null) {
      throw new IllegalStateException("the demo manifests hold no SourceDatabase");
    }
    return manifests;
  }

  static List<JsonNode> documents(String resource) {
    try (InputStream in = DemoManifests.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException(resource + " is not on the classpath (build with mvn package)");
      }
      List<JsonNode> docs = new ArrayList<>();
      try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(in)) {
        while (it.hasNext()) {
          JsonNode doc = it.next();
          if (doc != null && !doc.isNull() && !doc.isEmpty()) {
            docs.add(doc);
          }
        }
      }
      return docs;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }

  private void add(String file, JsonNode doc) {
    String kind = doc.path("kind").asText();
    switch (kind) {
      case "Secret" -> secrets.add(Serialization.unmarshal(doc.toString(), Secret.class));
      case "TrackingPolicy" -> policies.add(Serialization.unmarshal(doc.toString(), TrackingPolicy.class));
      case "SourceDatabase" -> {
        if (source != null) {
          throw new IllegalStateException("the demo manifests hold more than one SourceDatabase");
        }
        source = Serialization.unmarshal(doc.toString(), SourceDatabase.class);
      }
      default -> throw new IllegalStateException(file + ": the demo does not apply kind '" + kind + "'");
    }
  }

  /** Points the SourceDatabase at the demo's databases and puts their credentials into the referenced Secrets. */
  DemoManifests pointedAt(ConnectionSettings sourceDb, ConnectionSettings destinationDb) {
    connect(source.getSpec().connection, sourceDb);
    connect(source.getSpec().destination, destinationDb);
    return this;
  }

  private void connect(PostgresEndpointSpec endpoint, ConnectionSettings db) {
    endpoint.host = db.host();
    endpoint.port = db.port();
    endpoint.database = db.database();
    endpoint.sslMode = SslModeSpec.valueOf(db.sslMode().name());
    SecretKeysRef ref = endpoint.credentialsSecretRef;
    Secret secret = secrets.stream().filter(s -> s.getMetadata().getName().equals(ref.name)).findFirst()
        .orElseThrow(() -> new IllegalStateException("the demo manifests lack Secret " + ref.name));
    Map<String, String> values = new LinkedHashMap<>(secret.getStringData() == null ? Map.of() : secret.getStringData());
    values.put(ref.usernameKey, db.user());
    values.put(ref.passwordKey, db.password() == null ? "" : db.password());
    secret.setStringData(values);
  }

  /** Applies everything into {@code namespace}, in file order. */
  void apply(LocalKubernetes kubernetes, String namespace) {
    KubernetesClient client = kubernetes.client();
    for (Secret secret : secrets) {
      secret.getMetadata().setNamespace(namespace);
      kubernetes.applySecret(secret);
    }
    for (TrackingPolicy policy : policies) {
      apply(client, policy, namespace);
    }
    apply(client, source, namespace);
  }

  private static <T extends HasMetadata> void apply(KubernetesClient client, T resource, String namespace) {
    resource.getMetadata().setNamespace(namespace);
    client.resource(resource).createOr(existing -> existing.update());
  }
}
