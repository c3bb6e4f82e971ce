package io.pgtrail.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.opentest4j.TestAbortedException;

/**
 * Keeps the tests free of what the scan of their sources can find (issue 19): a test waits for a condition
 * or counts events, it never asserts on the wall clock.
 *
 * <ul>
 *   <li>{@code SLEEP}: {@code Thread.sleep} / {@code TimeUnit.X.sleep} outside {@link #SLEEPS_ALLOWED} (load
 *       generators and test-support relays that assert nothing after them). Wait with Awaitility for the
 *       condition instead, or for a marker written after what must not happen.
 *   <li>{@code ASSERT_TIMEOUT}: {@code assertTimeout}/{@code assertTimeoutPreemptively}, a duration asserted.
 *       A hang guard is {@code @Timeout}.
 *   <li>{@code ELAPSED_ASSERT}: an assertion on {@code System.nanoTime()}, {@code currentTimeMillis()},
 *       {@code Duration.between} or a variable computed from them. Printing a measurement is fine.
 *   <li>{@code DURING}: Awaitility's {@code during(...)}, "nothing happened for N seconds". Count events
 *       (reconciliations, log lines, a marker) and then assert instead.
 *   <li>{@code SHORT_AWAIT}: an {@code atMost} literal under {@value #MIN_AWAIT_SECONDS} s: too tight for a
 *       shared 2-core machine (a generous bound costs nothing when the condition holds early).
 *   <li>{@code SWALLOWED_ASSERTION}: {@code catch (AssertionError|Error|Throwable ...)}, which can turn a failed
 *       assertion into a pass.
 *   <li>{@code SOFT_NOT_ASSERTED}: {@code new SoftAssertions()} in a file that never calls {@code assertAll()}.
 *   <li>{@code DISABLED}: {@code @Disabled}; a test that cannot run here is skipped by an assumption with the
 *       reason ({@link Prerequisites}), never switched off.
 * </ul>
 */
class TestHygieneTest {
  static final int MIN_AWAIT_SECONDS = 10;

  /** A sleep the guard accepts: the file, the start of its source line (trimmed), and why it may sleep. */
  record Allowed(String file, String code, String reason) {}

  record Finding(String file, int line, String rule, String code) {
    @Override
    public String toString() {
      return file + ":" + line + " " + rule + ": " + code;
    }
  }

  static final List<Allowed> SLEEPS_ALLOWED = List.of(
      new Allowed("io/pgtrail/testing/TestTcpProxy.java", "Thread.sleep(millis);",
          "test support: a frozen relay polls its flag and a failed accept backs off; it asserts nothing"),
      new Allowed("io/pgtrail/worker/FailoverTest.java", "Thread.sleep(2);",
          "load generator: paces the workload's transactions; what committed is read from the audit table"),
      new Allowed("io/pgtrail/worker/FailoverTest.java", "Thread.sleep(100);",
          "load generator: backs off before reconnecting after the failover; nothing is asserted after it"),
      new Allowed("io/pgtrail/worker/WorkerGuaranteesTest.java", "Thread.sleep(1);",
          "load generator: paces the workload's transactions; every committed change is remembered"));

  private static final Pattern SLEEP = Pattern.compile("\\bThread\\.sleep\\s*\\(|\\bTimeUnit\\.\\w+\\.sleep\\s*\\(");
  private static final Pattern ASSERT_TIMEOUT = Pattern.compile("\\bassertTimeout(Preemptively)?\\s*\\(");
  private static final Pattern DURING = Pattern.compile("\\.during\\s*\\(");
  private static final Pattern AT_MOST = Pattern.compile(
      "\\batMost\\s*\\(\\s*(?:(?:java\\.time\\.)?Duration\\.of(Millis|Seconds)\\s*\\(\\s*([0-9_]+)\\s*\\)"
          + "|([0-9_]+)L?\\s*,\\s*(?:java\\.util\\.concurrent\\.)?(?:TimeUnit\\.)?(MILLISECONDS|SECONDS)\\b)");
  private static final Pattern CLOCK = Pattern.compile(
      "\\bSystem\\.nanoTime\\s*\\(|\\bSystem\\.currentTimeMillis\\s*\\(|\\bDuration\\.between\\s*\\(");
  private static final Pattern SWALLOWED = Pattern.compile("\\bcatch\\s*\\((?:[\\w.]+\\s*\\|\\s*)*"
      + "(?:java\\.lang\\.)?(AssertionError|Error|Throwable)\\b");
  private static final Pattern SOFT = Pattern.compile("\\bnew\\s+SoftAssertions\\s*\\(");
  private static final Pattern DISABLED = Pattern.compile("@(?:org\\.junit\\.jupiter\\.api\\.)?Disabled\\b");
  private static final Pattern ASSERTION = Pattern.compile("\\bassert\\w*\\s*\\(");
  private static final Pattern ASSIGNMENT = Pattern.compile("(\\w+)\\s*=(?!=)([^;]*)");

  @Test
  void theTestSourcesHaveNoWallClockAssertsAndNoBlindWaits() throws IOException {
    List<Finding> findings = new ArrayList<>();
    Set<Allowed> used = new HashSet<>();
    for (Path root : List.of(projectRoot().resolve("src/test/java"), projectRoot().resolve("src/k3s-test/java"))) {
      if (!Files.isDirectory(root)) {
        continue;
      }
      try (Stream<Path> files = Files.walk(root)) {
        for (Path file : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
          String name = root.relativize(file).toString().replace('\\', '/');
          for (Finding finding : scan(name, Files.readString(file))) {
            Allowed allowed = allowed(finding);
            if (allowed == null) {
              findings.add(finding);
            } else {
              used.add(allowed);
            }
          }
        }
      }
    }
    assertThat(findings).as("see TestHygieneTest's javadoc for each rule and what to do instead").isEmpty();
    assertThat(SLEEPS_ALLOWED).as("allow-list entries that match no sleep any more: remove them")
        .allSatisfy(a -> assertThat(used).contains(a))
        .allSatisfy(a -> assertThat(a.reason()).isNotBlank());
  }

  @Test
  void theScanFindsEachPattern() {
    String sample = String.join("\n",
        "class Sample {",                                                                // 1
        "  void t() throws Exception {",                                                  // 2
        "    Thread.sleep(500);",                                                         // 3
        "    TimeUnit.SECONDS.sleep(1);",                                                 // 4
        "    assertTimeout(Duration.ofSeconds(1), () -> work());",                        // 5
        "    long started = System.nanoTime();",                                          // 6
        "    long tookMillis = (System.nanoTime() - started) / 1_000_000;",              // 7
        "    assertThat(tookMillis)",                                                     // 8
        "        .isLessThan(10_000);",                                                   // 9
        "    assertThat(Duration.between(start, Instant.now())).isLessThan(TEN);",       // 10
        "    await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(30)).until(x);", // 11
        "    await().atMost(Duration.ofSeconds(5)).until(x);",                            // 12
        "    await().atMost(java.time.Duration.ofMillis(800)).atMost(3, SECONDS).until(x);", // 13
        "    assertTrue(System.currentTimeMillis() > deadline);",                         // 14
        "    try { check(); } catch (AssertionError e) { log(e); }",                      // 15
        "    try { check(); } catch (IOException | Throwable e) { }",                     // 16
        "    SoftAssertions softly = new SoftAssertions();",                              // 17
        "  }",
        "  @Disabled(\"flaky\") @Test void u() {}",                                     // 19
        "}");
    assertThat(scan("Sample.java", sample)).extracting(f -> f.line() + " " + f.rule()).containsExactly(
        "3 SLEEP", "4 SLEEP", "5 ASSERT_TIMEOUT", "8 ELAPSED_ASSERT", "10 ELAPSED_ASSERT", "11 DURING",
        "12 SHORT_AWAIT", "13 SHORT_AWAIT", "13 SHORT_AWAIT", "14 ELAPSED_ASSERT", "15 SWALLOWED_ASSERTION", "16 SWALLOWED_ASSERTION",
        "17 SOFT_NOT_ASSERTED", "19 DISABLED");
  }

  @Test
  void theScanLeavesCommentsStringsHangGuardsAndPrintedMeasurementsAlone() {
    String sample = String.join("\n",
        "class Sample {",
        "  // Thread.sleep(500); assertTimeout(x) .during(y)",
        "  /* Thread.sleep(500);",
        "     assertThat(System.nanoTime()).isPositive(); */",
        "  @Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)",
        "  void t() {",
        "    String s = \"Thread.sleep(1); assertTimeout(\" + 'x';",
        "    String block = \"\"\"",
        "        Thread.sleep(2); .during(",
        "        \"\"\";",
        "    long started = System.nanoTime();",
        "    System.out.printf(\"took %d ms%n\", (System.nanoTime() - started) / 1_000_000);",
        "    assertThat(rows).isEqualTo(expected);",
        "    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(x);",
        "    await().atMost(Duration.ofMinutes(1)).atMost(30, TimeUnit.SECONDS).until(x);",
        "    try { run(); } catch (IOException | RuntimeException e) { throw e; }",
        "    SoftAssertions softly = new SoftAssertions();",
        "    softly.assertAll();",
        "  }",
        "}");
    assertThat(scan("Sample.java", sample)).isEmpty();
  }

  @Test
  void anAllowedSleepIsMatchedByFileAndCodeOnly() {
    Allowed first = SLEEPS_ALLOWED.get(0);
    assertThat(allowed(new Finding(first.file(), 1, "SLEEP", first.code() + " // why"))).isEqualTo(first);
    assertThat(allowed(new Finding("io/pgtrail/Other.java", 1, "SLEEP", first.code()))).isNull();
    assertThat(allowed(new Finding(first.file(), 1, "SLEEP", "Thread.sleep(5000);"))).isNull();
    assertThat(allowed(new Finding(first.file(), 1, "DURING", first.code()))).isNull();
  }

  @Test
  void aMissingToolSkipsOutsideCiAndFailsInCi() {
    assertThatThrownBy(() -> Prerequisites.assume(false, "ssh-keygen is not installed", false))
        .isInstanceOf(TestAbortedException.class).hasMessageContaining("ssh-keygen is not installed");
    assertThatThrownBy(() -> Prerequisites.assume(false, "ssh-keygen is not installed", true))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("CI=true");
    assertThatCode(() -> Prerequisites.assume(true, "ssh-keygen is not installed", true)).doesNotThrowAnyException();
  }

  private static Allowed allowed(Finding finding) {
    if (!finding.rule().equals("SLEEP")) {
      return null;
    }
    return SLEEPS_ALLOWED.stream()
        .filter(a -> a.file().equals(finding.file()) && finding.code().startsWith(a.code()))
        .findFirst().orElse(null);
  }

  /** Every finding in one source file ({@code name} relative to its source root). */
  static List<Finding> scan(String name, String source) {
    String code = codeOnly(source);
    String[] lines = source.split("\n", -1);
    List<Finding> findings = new ArrayList<>();
    find(findings, name, code, lines, SLEEP, "SLEEP");
    find(findings, name, code, lines, ASSERT_TIMEOUT, "ASSERT_TIMEOUT");
    find(findings, name, code, lines, DURING, "DURING");
    find(findings, name, code, lines, SWALLOWED, "SWALLOWED_ASSERTION");
    find(findings, name, code, lines, DISABLED, "DISABLED");
    if (!code.contains(".assertAll(")) {
      find(findings, name, code, lines, SOFT, "SOFT_NOT_ASSERTED");
    }
    Matcher atMost = AT_MOST.matcher(code);
    while (atMost.find()) {
      boolean duration = atMost.group(2) != null;
      long amount = Long.parseLong((duration ? atMost.group(2) : atMost.group(3)).replace("_", ""));
      String unit = duration ? atMost.group(1) : atMost.group(4);
      long seconds = unit.equals("Millis") || unit.equals("MILLISECONDS") ? amount / 1000 : amount;
      if (seconds < MIN_AWAIT_SECONDS) {
        findings.add(finding(name, code, lines, atMost.start(), "SHORT_AWAIT"));
      }
    }
    Set<String> clockValues = clockValues(code);
    int start = 0;
    for (String statement : code.split("[;{}]", -1)) {
      Matcher assertion = ASSERTION.matcher(statement);
      if (assertion.find() && (CLOCK.matcher(statement).find() || mentionsAny(statement, clockValues))) {
        findings.add(finding(name, code, lines, start + assertion.start(), "ELAPSED_ASSERT"));
      }
      start += statement.length() + 1;
    }
    findings.sort(java.util.Comparator.comparingInt(Finding::line));
    return findings;
  }

  /** Variables computed from a clock reading, directly or through another such variable. */
  private static Set<String> clockValues(String code) {
    Set<String> names = new HashSet<>();
    boolean grew = true;
    while (grew) {
      grew = false;
      Matcher m = ASSIGNMENT.matcher(code);
      while (m.find()) {
        String value = m.group(2);
        if ((CLOCK.matcher(value).find() || mentionsAny(value, names)) && names.add(m.group(1))) {
          grew = true;
        }
      }
    }
    return names;
  }

  private static boolean mentionsAny(String text, Set<String> names) {
    return names.stream().anyMatch(n -> Pattern.compile("\\b" + Pattern.quote(n) + "\\b").matcher(text).find());
  }

  private static void find(List<Finding> findings, String name, String code, String[] lines, Pattern pattern,
      String rule) {
    Matcher m = pattern.matcher(code);
    while (m.find()) {
      findings.add(finding(name, code, lines, m.start(), rule));
    }
  }

  private static Finding finding(String name, String code, String[] lines, int offset, String rule) {
    int line = (int) code.substring(0, offset).chars().filter(c -> c == '\n').count() + 1;
    return new Finding(name, line, rule, lines[line - 1].trim());
  }

  /** The source with comments and the contents of string, text-block and char literals blanked (lines kept). */
  static String codeOnly(String source) {
    StringBuilder out = new StringBuilder(source.length());
    int i = 0;
    while (i < source.length()) {
      char c = source.charAt(i);
      if (source.startsWith("//", i)) {
        i = blankUntil(source, out, i, source.indexOf('\n', i) < 0 ? source.length() : source.indexOf('\n', i));
      } else if (source.startsWith("/*", i)) {
        int end = source.indexOf("*/", i + 2);
        i = blankUntil(source, out, i, end < 0 ? source.length() : end + 2);
      } else if (source.startsWith("\"\"\"", i)) {
        int end = source.indexOf("\"\"\"", i + 3);
        i = blankUntil(source, out, i, end < 0 ? source.length() : end + 3);
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < source.length() && source.charAt(j) != c && source.charAt(j) != '\n') {
          j += source.charAt(j) == '\\' ? 2 : 1;
        }
        i = blankUntil(source, out, i, Math.min(j + 1, source.length()));
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  private static int blankUntil(String source, StringBuilder out, int from, int to) {
    for (int k = from; k < to; k++) {
      out.append(source.charAt(k) == '\n' ? '\n' : ' ');
    }
    return to;
  }

  private static Path projectRoot() {
    String basedir = System.getProperty("basedir");
    return (basedir == null || basedir.isBlank() ? Path.of("") : Path.of(basedir)).toAbsolutePath().normalize();
  }
}
