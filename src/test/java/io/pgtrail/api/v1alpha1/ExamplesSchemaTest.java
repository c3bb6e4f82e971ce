package io.pgtrail.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.pgtrail.testing.CrdSchemas;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every manifest in k8s-examples/ is valid against the generated CRD schemas. */
class ExamplesSchemaTest {
  static final Path EXAMPLES = Path.of("k8s-examples");

  static Stream<Path> exampleFiles() throws IOException {
    try (Stream<Path> files = Files.walk(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  static List<JsonNode> documents(Path file) throws IOException {
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = CrdSchemas.YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
      while (it.hasNext()) {
        JsonNode doc = it.next();
        if (doc != null && !doc.isNull() && !doc.isEmpty()) {
          docs.add(doc);
        }
      }
    }
    return docs;
  }

  @ParameterizedTest
  @MethodSource("exampleFiles")
  void everyDocumentIsValid(Path file) throws IOException {
    List<JsonNode> docs = documents(file);
    assertThat(docs).as("%s has no manifests", file).isNotEmpty();
    for (JsonNode doc : docs) {
      String kind = doc.path("kind").asText();
      if (CrdSchemas.kinds().contains(kind)) {
        assertThat(CrdSchemas.validate(doc)).as("%s %s", file, doc.path("metadata").path("name")).isEmpty();
        // and it reads back into the Java API types without unknown properties
        Class<? extends io.fabric8.kubernetes.api.model.HasMetadata> type =
            kind.equals("SourceDatabase") ? SourceDatabase.class : TrackingPolicy.class;
        assertThat(Serialization.unmarshal(doc.toString(), type).getMetadata().getName()).isNotBlank();
      } else {
        assertThat(kind).as("%s: unexpected kind", file).isEqualTo("Secret");
        Secret secret = Serialization.unmarshal(doc.toString(), Secret.class);
        assertThat(secret.getMetadata().getName()).isNotBlank();
      }
    }
  }

  @Test
  void examplesCoverEveryProviderAndTheSpecialSources() throws IOException {
    Set<String> providers = new TreeSet<>();
    boolean managedRole = false;
    boolean sshTunnel = false;
    int policies = 0;
    for (Path file : exampleFiles().toList()) {
      for (JsonNode doc : documents(file)) {
        JsonNode spec = doc.path("spec");
        if (doc.path("kind").asText().equals("SourceDatabase")) {
          providers.add(spec.path("provider").asText());
          managedRole |= spec.path("credentials").path("mode").asText().equals("managedRole");
          sshTunnel |= spec.has("sshTunnel");
        } else if (doc.path("kind").asText().equals("TrackingPolicy")) {
          policies++;
        }
      }
    }
    assertThat(providers).as("one example per provider").containsExactlyInAnyOrderElementsOf(
        java.util.Arrays.stream(ProviderSpec.values()).map(ProviderSpec::id).toList());
    assertThat(managedRole).isTrue();
    assertThat(sshTunnel).isTrue();
    assertThat(policies).isGreaterThanOrEqualTo(3);
  }

  @Test
  void theSchemaRejectsWhatTheApiServerWouldReject() throws IOException {
    ObjectNode valid = (ObjectNode) documents(EXAMPLES.resolve("managed-role.yaml")).get(1);
    assertThat(CrdSchemas.validate(valid)).isEmpty();

    assertThat(CrdSchemas.validate(with(valid, "/spec", "slotName", "Bad-Name"))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec", "slotName", "a".repeat(64)))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec", "provider", "heroku"))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec", "reclaimPolicy", "purge"))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec/credentials", "mode", "borrowed"))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec/connection", "sslMode", "verify"))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec/connection", "port", 70000))).isNotEmpty();
    assertThat(CrdSchemas.validate(with(valid, "/spec/connection", "hots", "typo"))).isNotEmpty();
    ObjectNode withoutHost = valid.deepCopy();
    ((ObjectNode) withoutHost.at("/spec/connection")).remove("host");
    assertThat(CrdSchemas.validate(withoutHost)).isNotEmpty();
    ObjectNode withoutDestination = valid.deepCopy();
    ((ObjectNode) withoutDestination.at("/spec")).remove("destination");
    assertThat(CrdSchemas.validate(withoutDestination)).isNotEmpty();
  }

  @Test
  void theCrdCarriesCelRulesPrinterColumnsAndShortNames() {
    JsonNode crd = CrdSchemas.crd("SourceDatabase");
    String text = crd.toString();
    assertThat(text).contains("self.database == oldSelf.database")
        .contains("self.slotName == oldSelf.slotName")
        .contains("['supabase', 'render', 'timescale']")
        .contains("has(self.caCertSecretRef)");
    List<String> columns = new ArrayList<>();
    crd.at("/spec/versions/0/additionalPrinterColumns").forEach(c -> columns.add(c.path("name").asText()));
    assertThat(columns).containsExactlyInAnyOrder("Ready", "Reason", "Provider", "Tables", "Lag", "Age");
    assertThat(crd.at("/spec/names/shortNames").toString()).contains("sdb");
    assertThat(crd.at("/spec/versions/0/subresources/status").isObject()).isTrue();
    assertThat(CrdSchemas.crd("TrackingPolicy").at("/spec/names/shortNames").toString()).contains("tp");
  }

  private static ObjectNode with(ObjectNode resource, String pointer, String field, Object value) {
    ObjectNode copy = resource.deepCopy();
    ObjectNode target = (ObjectNode) copy.at(pointer);
    if (value instanceof Integer i) {
      target.put(field, i);
    } else {
      target.put(field, value.toString());
    }
    return copy;
  }
}
