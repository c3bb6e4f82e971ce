package io.pgtrail.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TerminalTest {
  @Test
  void colourOnlyWhenAskedAndPaddingCountsVisibleCharacters() {
    StringWriter out = new StringWriter();
    Terminal colour = new Terminal(new PrintWriter(out), true);
    Terminal plain = new Terminal(new PrintWriter(out), false);

    assertThat(colour.green("ok")).isEqualTo("\u001b[32mok\u001b[0m");
    assertThat(plain.green("ok")).isEqualTo("ok");
    assertThat(Terminal.pad(colour.red("ab"), 5)).isEqualTo("\u001b[31mab\u001b[0m   ");
    assertThat(Terminal.pad("abcdef", 3)).isEqualTo("abcdef");

    plain.step("Starting");
    assertThat(out.toString()).isEqualTo("==> Starting" + System.lineSeparator());
  }
}
