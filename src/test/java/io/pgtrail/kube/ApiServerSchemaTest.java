package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionCondition;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real-API-server tier: the CRDs and examples as a real kube-apiserver sees them. Structural schemas
 * (Established, no NonStructuralSchema), strict server-side validation of every example (unknown fields are
 * errors, not pruned), and the CEL rules (x-kubernetes-validations) really evaluated on create and update.
 */
@Tag("kube-apiserver")
@ExtendWith(KubeBinaries.Required.class)
class ApiServerSchemaTest {
  static final String NAMESPACE = "schema";
  static KubeApiServer server;
  static ApiRequests admin;

  @BeforeAll
  static void start() {
    server = ClusterManifests.clusterWithCrds(NAMESPACE);
    admin = new ApiRequests(server, server.adminToken());
  }

  @Test
  void everyCrdIsStructuralAndEstablished() {
    List<Path> files = ClusterManifests.yamlFiles(ClusterManifests.crdsDirectory());
    assertThat(files).hasSize(2);
    for (Path file : files) {
      String name = ClusterManifests.documents(file).get(0).path("metadata").path("name").asText();
      CustomResourceDefinition crd = server.admin().apiextensions().v1().customResourceDefinitions()
          .withName(name).get();
      assertThat(crd.getStatus().getConditions()).as(name)
          .extracting(CustomResourceDefinitionCondition::getType, CustomResourceDefinitionCondition::getStatus)
          .contains(org.assertj.core.groups.Tuple.tuple("Established", "True"),
              org.assertj.core.groups.Tuple.tuple("NamesAccepted", "True"))
          .doesNotContain(org.assertj.core.groups.Tuple.tuple("NonStructuralSchema", "True"));
    }
  }

  static Stream<Path> exampleFiles() {
    return ClusterManifests.yamlFiles(ClusterManifests.examplesDirectory()).stream();
  }

  @ParameterizedTest
  @MethodSource("exampleFiles")
  void everyExamplePassesStrictServerSideValidation(Path file) {
    for (JsonNode manifest : ClusterManifests.documents(file)) {
      String namespace = manifest.path("metadata").path("namespace").asText(NAMESPACE);
      ClusterManifests.ensureNamespace(server, namespace);
      ApiRequests.Response response = admin.create(manifest, namespace, true);
      assertThat(response.succeeded()).as("%s %s/%s: %s", file.getFileName(), manifest.path("kind").asText(),
          manifest.path("metadata").path("name").asText(), response.message()).isTrue();
    }
  }

  @Test
  void theServersDefaultsAreTheJavaDefaults() {
    // only what the CRD requires; the API server fills in its defaults, the Java types their initializers
    ObjectNode minimal = source("minimal", spec -> {
      spec.remove(List.of("reclaimPolicy", "slotName", "publicationName", "worker", "maxRetainedWal", "credentials"));
      for (String endpoint : List.of("connection", "destination")) {
        ((ObjectNode) spec.path(endpoint)).remove(List.of("port", "sslMode"));
        ((ObjectNode) spec.path(endpoint).path("credentialsSecretRef")).retain("name");
      }
    });
    ApiRequests.Response defaulted = admin.create(minimal, NAMESPACE, true);
    assertThat(defaulted.succeeded()).as(defaulted.message()).isTrue();
    JsonNode byServer = defaulted.body().path("spec");
    JsonNode byJava = io.fabric8.kubernetes.client.utils.Serialization.jsonMapper().valueToTree(
        io.fabric8.kubernetes.client.utils.Serialization.unmarshal(minimal.toString(),
            SourceDatabase.class).getSpec());
    assertThat(byServer.path("reclaimPolicy").asText()).isEqualTo("retain");
    assertThat(byServer.path("connection").path("port").asInt()).isEqualTo(5432);
    for (String field : List.of("reclaimPolicy", "connection", "destination")) {
      assertThat(byServer.path(field)).as(field).isEqualTo(byJava.path(field));
    }
  }

  // ---- CEL rules -----------------------------------------------------------------------------------

  /** The self-managed provider example's SourceDatabase, renamed, with the given change. */
  static ObjectNode source(String name, Consumer<ObjectNode> change) {
    JsonNode example = ClusterManifests.documents(ClusterManifests.examplesDirectory()
        .resolve("providers/self-managed.yaml")).stream()
        .filter(d -> d.path("kind").asText().equals("SourceDatabase")).findFirst().orElseThrow();
    ObjectNode copy = example.deepCopy();
    ((ObjectNode) copy.path("metadata")).put("name", name);
    change.accept((ObjectNode) copy.path("spec"));
    return copy;
  }

  ObjectNode created(ObjectNode manifest) {
    ApiRequests.Response response = admin.create(manifest, NAMESPACE, false);
    assertThat(response.succeeded()).as(response.message()).isTrue();
    return (ObjectNode) response.body();
  }

  static void assertRejected(ApiRequests.Response response, String messagePart) {
    assertThat(response.status()).as(response.message()).isEqualTo(422);
    assertThat(response.message()).contains(messagePart);
  }

  @Test
  void slotAndPublicationNamesCannotChangeOrBeRemoved() {
    ObjectNode stored = created(source("immutable-names", spec -> {
      spec.put("slotName", "pgtrail_immutable");
      spec.put("publicationName", "pgtrail_immutable");
    }));

    ObjectNode newSlot = stored.deepCopy();
    ((ObjectNode) newSlot.path("spec")).put("slotName", "pgtrail_other");
    assertRejected(admin.replace(newSlot, NAMESPACE), "slotName cannot change");

    ObjectNode noSlot = stored.deepCopy();
    ((ObjectNode) noSlot.path("spec")).remove("slotName");
    assertRejected(admin.replace(noSlot, NAMESPACE), "slotName cannot change");

    ObjectNode newPublication = stored.deepCopy();
    ((ObjectNode) newPublication.path("spec")).put("publicationName", "pgtrail_other");
    assertRejected(admin.replace(newPublication, NAMESPACE), "publicationName cannot change");

    ObjectNode newDatabase = stored.deepCopy();
    ((ObjectNode) newDatabase.path("spec").path("connection")).put("database", "elsewhere");
    assertRejected(admin.replace(newDatabase, NAMESPACE), "connection.database cannot change");

    // what may change still does
    ObjectNode newHost = stored.deepCopy();
    ((ObjectNode) newHost.path("spec").path("connection")).put("host", "replica.databases.svc");
    ApiRequests.Response accepted = admin.replace(newHost, NAMESPACE);
    assertThat(accepted.succeeded()).as(accepted.message()).isTrue();
  }

  @Test
  void managedRoleIsRejectedWhereTheProviderCannotCreateReplicationRoles() {
    for (String provider : List.of("supabase", "render")) {
      ObjectNode managed = source("managed-" + provider, spec -> {
        spec.put("provider", provider);
        spec.putObject("credentials").put("mode", "managedRole");
      });
      assertRejected(admin.create(managed, NAMESPACE, true), "do not allow creating REPLICATION roles");
    }
    ObjectNode selfManaged = source("managed-self", spec -> spec.putObject("credentials").put("mode", "managedRole"));
    ApiRequests.Response accepted = admin.create(selfManaged, NAMESPACE, true);
    assertThat(accepted.succeeded()).as(accepted.message()).isTrue();
  }

  @Test
  void tlsVerificationAndSshTunnelsNeedSomethingToVerifyAgainst() {
    ObjectNode verifyFull = source("verify-full", spec ->
        ((ObjectNode) spec.path("connection")).put("sslMode", "verify-full"));
    assertRejected(admin.create(verifyFull, NAMESPACE, true), "need caCertSecretRef");

    ObjectNode blindTunnel = source("blind-tunnel", spec ->
        spec.putObject("sshTunnel").put("host", "bastion.example.com").put("user", "pgtrail"));
    assertRejected(admin.create(blindTunnel, NAMESPACE, true), "sshTunnel needs knownHostsSecretRef");
  }

  @Test
  void unknownFieldsAreErrorsUnderStrictValidation() {
    ObjectNode typo = source("typo", spec -> spec.put("slotname", "pgtrail_typo"));
    ApiRequests.Response response = admin.create(typo, NAMESPACE, true);
    assertThat(response.status()).as(response.message()).isEqualTo(400);
    assertThat(response.message()).contains("unknown field \"spec.slotname\"");
  }
}
