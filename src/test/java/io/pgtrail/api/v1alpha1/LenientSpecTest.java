package io.pgtrail.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.Test;

/** An undecodable field is dropped and described; the rest of the spec, and the object, decode. */
class LenientSpecTest {
  final KubernetesSerialization serialization = new KubernetesSerialization();

  SourceDatabase decode(String spec) {
    return serialization.unmarshal(("{'apiVersion': 'pgtrail.io/v1alpha1', 'kind': 'SourceDatabase',"
        + " 'metadata': {'name': 's'}, 'spec': " + spec + "}").replace('\'', '"'), SourceDatabase.class);
  }

  @Test
  void unknownEnumValuesAndWrongTypesAreReportedNotThrown() {
    SourceDatabase s = decode("{'provider': 'oracleCloud', 'reclaimPolicy': 'delete', 'futureField': {'a': 1},"
        + " 'connection': {'host': 'db', 'port': 'five', 'sslMode': 'verify-full'}}");
    assertThat(s.getSpec().invalidFields()).containsExactly(
        "spec.provider: 'oracleCloud' is not a value this operator knows (accepted: "
            + java.util.Arrays.stream(ProviderSpec.values()).map(ProviderSpec::id)
                .collect(java.util.stream.Collectors.joining(", "))
            + "); upgrade the operator or use an accepted value",
        "spec.connection.port: 'five' is not a valid integer");
    assertThat(s.getSpec().provider).isNull();
    assertThat(s.getSpec().reclaimPolicy).isEqualTo(ReclaimPolicy.DELETE);
    assertThat(s.getSpec().connection.host).isEqualTo("db");
    assertThat(s.getSpec().connection.sslMode).isEqualTo(SslModeSpec.VERIFY_FULL);
  }

  @Test
  void aValidSpecHasNoProblemsAndSurvivesACopy() {
    SourceDatabase s = decode("{'provider': 'neon', 'connection': {'host': 'db', 'port': 5432}}");
    assertThat(s.getSpec().invalidFields()).isEmpty();
    assertThat(s.getSpec().provider).isEqualTo(ProviderSpec.NEON);

    SourceDatabase bad = decode("{'provider': 'x'}");
    SourceDatabase copy = LenientSpec.keepProblems(bad, serialization.clone(bad));
    assertThat(copy.getSpec().invalidFields()).singleElement().asString().startsWith("spec.provider: 'x'");
  }

  @Test
  void aSpecThatIsNotAnObjectIsReported() {
    TrackingPolicy p = serialization.unmarshal("{\"apiVersion\": \"pgtrail.io/v1alpha1\", \"kind\": \"TrackingPolicy\","
        + " \"metadata\": {\"name\": \"p\"}, \"spec\": [1, 2]}", TrackingPolicy.class);
    assertThat(p.getSpec().invalidFields()).singleElement().asString().contains("expected an object");
  }
}
