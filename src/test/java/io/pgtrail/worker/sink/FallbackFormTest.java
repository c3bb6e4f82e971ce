package io.pgtrail.worker.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.worker.Change;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fallback form as text; that the destination accepts it is shown by ChangeSinkTest and WorkerIsolationTest. */
class FallbackFormTest {
  private static String representable(String json, List<String> rewritten) {
    return FallbackForm.representable(json, "after", rewritten);
  }

  @Test
  void onlyTheValuesJsonbCannotHoldAreRewrittenAndNamed() {
    List<String> rewritten = new ArrayList<>();
    assertThat(representable("{\"a\": \"x\\u0000y\", \"b\": [1, {\"c\": \"\\ud800\"}], \"ok\": \"\\ud83d\\ude00\","
        + " \"n\": 1e1000000, \"m\": 1e-20000, \"fine\": 1.5e300}", rewritten))
        .isEqualTo("{\"a\":\"x\\\\u0000y\",\"b\":[1,{\"c\":\"\\\\ud800\"}],\"ok\":\"\uD83D\uDE00\","
            + "\"n\":\"1e1000000\",\"m\":\"1e-20000\",\"fine\":1.5e300}");
    assertThat(rewritten).containsExactly("after.a", "after.b", "after.n", "after.m");

    List<String> none = new ArrayList<>();
    String plain = "{\"a\": \"x\", \"n\": 12345678901234567890.5}";
    assertThat(representable(plain, none)).isSameAs(plain);
    assertThat(none).isEmpty();

    List<String> broken = new ArrayList<>();
    assertThat(representable("{\"a\": ", broken)).isEqualTo("{\"_json_text\":\"{\\\"a\\\": \"}");
    assertThat(broken).containsExactly("after");
  }

  @Test
  void aChangeWithNothingToRewriteHasNoFallbackForm() {
    Change plain = new Change("db", "public", "t", "1", Change.Operation.CREATE, "{}", "{\"a\": 1}", "{}", 1, 1, 1, 1);
    assertThat(FallbackForm.of(plain, "23514")).isNull();
  }

  @Test
  void theMarkerKeepsTheContextAndSaysWhatWasRewritten() {
    Change poisoned = new Change("db", "public", "t", "1", Change.Operation.UPDATE, "{\"j\": \"\\u0000\"}", "{}",
        "{\"user\": \"ann\", \"pgtrail\": {\"mine\": true}}", 1, 1, 1, 1);
    Change fallback = FallbackForm.of(poisoned, "22P05");
    assertThat(fallback.before()).isEqualTo("{\"j\":\"\\\\u0000\"}");
    assertThat(fallback.context()).isEqualTo("{\"user\":\"ann\",\"pgtrail\":{\"mine\":true,\"fallback\":"
        + "{\"reason\":\"UnrepresentableValue\",\"sqlstate\":\"22P05\",\"rewritten\":[\"before.j\"]}}}");
    assertThat(FallbackForm.withMarker("not an object", new com.fasterxml.jackson.databind.ObjectMapper()
        .createObjectNode())).isEqualTo("{\"_context\":\"not an object\",\"pgtrail\":{\"fallback\":{}}}");
  }
}
