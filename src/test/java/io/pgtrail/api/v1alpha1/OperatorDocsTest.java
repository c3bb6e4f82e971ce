package io.pgtrail.api.v1alpha1;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.api.v1alpha1.status.ConditionType;
import io.pgtrail.api.v1alpha1.status.Reason;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** docs/operator.md names every condition type and every reason the operator reports. */
class OperatorDocsTest {
  @Test
  void everyConditionAndReasonIsDocumented() throws Exception {
    String doc = Files.readString(Path.of("docs/operator.md"));
    assertThat(Arrays.stream(Reason.values()).map(Reason::camelCase))
        .allSatisfy(reason -> assertThat(doc).as("reason %s in docs/operator.md", reason).contains("`" + reason + "`"));
    assertThat(Arrays.stream(ConditionType.class.getFields()).filter(f -> Modifier.isStatic(f.getModifiers()))
        .map(f -> {
          try {
            return (String) f.get(null);
          } catch (IllegalAccessException e) {
            throw new AssertionError(e);
          }
        })).allSatisfy(type -> assertThat(doc).as("condition %s in docs/operator.md", type).contains("`" + type + "`"));
  }
}
