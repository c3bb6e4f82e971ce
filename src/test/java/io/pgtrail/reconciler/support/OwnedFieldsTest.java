package io.pgtrail.reconciler.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What counts as drift: only a value pgtrail set that is no longer there. */
class OwnedFieldsTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static JsonNode json(String text) throws Exception {
    return JSON.readTree(text.replace('\'', '"'));
  }

  @Test
  void defaultsTheApiServerAddsAreNoDrift() throws Exception {
    JsonNode desired = json("{'spec': {'replicas': 1, 'template': {'spec': {'containers': [{'name': 'w',"
        + " 'image': 'i'}], 'volumes': [{'name': 'tmp', 'emptyDir': {'medium': ''}}]}}}}");
    JsonNode actual = json("{'spec': {'replicas': 1, 'progressDeadlineSeconds': 600, 'template': {'spec': {"
        + "'dnsPolicy': 'ClusterFirst', 'containers': [{'name': 'w', 'image': 'i', 'terminationMessagePath': '/dev/t'}],"
        + " 'volumes': [{'name': 'tmp', 'emptyDir': {}}]}}}}");
    assertThat(OwnedFields.differences(desired, actual, List.of())).isEmpty();
  }

  @Test
  void changedOrRemovedValuesAreNamedByPath() throws Exception {
    JsonNode desired = json("{'spec': {'replicas': 1, 'template': {'spec': {'containers': [{'name': 'w',"
        + " 'image': 'i', 'args': ['worker']}]}}}, 'data': {'worker.yaml': 'a'}}");
    JsonNode actual = json("{'spec': {'replicas': 0, 'template': {'spec': {'containers': [{'name': 'w',"
        + " 'image': 'evil', 'args': []}]}}}, 'data': {'worker.yaml': 'a', 'extra': 'x'}}");
    assertThat(OwnedFields.differences(desired, actual, List.of("data"))).containsExactly("spec.replicas",
        "spec.template.spec.containers[0].image", "spec.template.spec.containers[0].args", "data.extra");
  }

  @Test
  void numbersCompareByValue() throws Exception {
    assertThat(OwnedFields.differences(json("{'a': 1}"), json("{'a': 1.0}"), List.of())).isEmpty();
    assertThat(OwnedFields.differences(json("{'a': 420}"), json("{'a': 288}"), List.of())).containsExactly("a");
  }
}
