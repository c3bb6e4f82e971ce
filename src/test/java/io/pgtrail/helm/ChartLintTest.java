package io.pgtrail.helm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code helm lint --strict}, and the values schema catching what lint alone would not. */
class ChartLintTest {

  @Test
  void defaultValuesLintCleanUnderStrict() {
    Command.Result result = Helm.lint();

    assertThat(result.succeeded()).as(result.describe()).isTrue();
    assertThat(result.stdout()).contains("0 chart(s) failed").doesNotContain("[WARNING]").doesNotContain("[ERROR]");
  }

  @Test
  void nonDefaultValuesLintCleanUnderStrict() {
    Command.Result result = Helm.lint("-f", ProjectFiles.testValues("values-namespaced.yaml").toString());

    assertThat(result.succeeded()).as(result.describe()).isTrue();
    assertThat(result.stdout()).doesNotContain("[WARNING]").doesNotContain("[ERROR]");
  }

  @Test
  void aMisspeltValueIsRejectedInsteadOfIgnored() {
    Command.Result result = Helm.lint("--set", "leaderElection.enable=false");

    assertThat(result.succeeded()).isFalse();
    assertThat(result.stdout() + result.stderr()).contains("additional properties 'enable' not allowed");
  }

  @Test
  void anUnknownLogFormatIsRejected() {
    Command.Result result = Helm.lint("--set", "logFormat=xml");

    assertThat(result.succeeded()).isFalse();
    assertThat(result.stdout() + result.stderr()).contains("logFormat");
  }

  @Test
  void aWatchedNamespaceThatIsNoDnsLabelIsRejected() {
    Command.Result result = Helm.lint("--set", "watchNamespaces={Team_A}");

    assertThat(result.succeeded()).isFalse();
    assertThat(result.stdout() + result.stderr()).contains("watchNamespaces");
  }
}
