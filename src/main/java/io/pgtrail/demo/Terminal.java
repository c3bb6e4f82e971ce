package io.pgtrail.demo;

import java.io.Console;
import java.io.PrintWriter;

/** The demo's output: plain text, with ANSI colour only when stdout is a terminal. */
final class Terminal {
  private static final String RESET = "\u001b[0m";

  private final PrintWriter out;
  private final boolean colour;

  Terminal(PrintWriter out, boolean colour) {
    this.out = out;
    this.colour = colour;
  }

  /** Colour when stdout is a terminal (and NO_COLOR is not set), plain otherwise. */
  static Terminal detect(PrintWriter out) {
    return new Terminal(out, isTerminal() && System.getenv("NO_COLOR") == null);
  }

  private static boolean isTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      // Java 22+ has a Console even when redirected and says with isTerminal(); before, a console means a terminal
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException e) {
      return false;
    }
  }

  String bold(String s) {
    return style("1", s);
  }

  String dim(String s) {
    return style("2", s);
  }

  String green(String s) {
    return style("32", s);
  }

  String red(String s) {
    return style("31", s);
  }

  String yellow(String s) {
    return style("33", s);
  }

  String cyan(String s) {
    return style("36", s);
  }

  private String style(String code, String s) {
    return colour ? "\u001b[" + code + "m" + s + RESET : s;
  }

  /** A step of the demo: {@code ==> what}. */
  void step(String what) {
    println(cyan("==> ") + bold(what));
  }

  void println(String line) {
    out.println(line);
    out.flush();
  }

  void println() {
    println("");
  }

  /** Pads {@code s} (which may carry ANSI codes) to {@code width} visible characters. */
  static String pad(String s, int width) {
    int visible = visibleLength(s);
    return visible >= width ? s : s + " ".repeat(width - visible);
  }

  static int visibleLength(String s) {
    return s.replaceAll("\u001b\\[[0-9;]*m", "").length();
  }
}
