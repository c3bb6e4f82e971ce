package io.pgtrail.worker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.Main;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code pgtrail bench} on a small workload, as its own process: it measures every run it documents, its last
 * line carries exactly the keys docs/worker-configuration.md lists, and it says where the CPU went. The figures
 * themselves are not asserted (a timed assertion on a shared machine measures the machine).
 */
class BenchCommandTest {

  @Test
  void aSmallBenchPrintsEveryRunItsCpuAndTheDocumentedKeys() throws Exception {
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "bench", "--changes=3000", "--latency-seconds=1", "--latency-rate=3000"));
    Process bench = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(bench.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(bench.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(bench.exitValue()).as(output).isZero();

    assertThat(output).contains("warm-up: 6000 changes through the worker", "throughput: 3000 changes",
        "catch-up: the same 3000 changes", "latency at a steady 3000 changes/s", "reference COPY: 3000 of the same rows",
        "reference read:", "CPU in the run, by process:", "source workload backend", "source walsender",
        "destination client backends", "the reference's backend");

    Map<String, String> last = keyValues(output.lines().filter(l -> !l.isBlank()).reduce((a, b) -> b).orElseThrow());
    assertThat(List.copyOf(last.keySet())).isEqualTo(documentedKeys());
    assertThat(Integer.parseInt(last.get("changes"))).isEqualTo(3000);
    for (String ratio : List.of("copy_ratio", "catchup_copy_ratio", "read_ratio")) {
      assertThat(Double.parseDouble(last.get(ratio))).as(ratio).isPositive();
    }
  }

  private static Map<String, String> keyValues(String line) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String pair : line.trim().split(" ")) {
      int eq = pair.indexOf('=');
      assertThat(eq).as("a key=value pair: " + pair).isPositive();
      values.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return values;
  }

  /** The keys docs/worker-configuration.md lists after "The last line is `key=value` pairs:". */
  private static List<String> documentedKeys() throws Exception {
    String doc = Files.readString(Path.of("docs/worker-configuration.md"));
    int start = doc.indexOf("The last line is `key=value` pairs:");
    assertThat(start).isNotNegative();
    String paragraph = doc.substring(start + "The last line is `key=value` pairs:".length(), doc.indexOf("\n\n", start));
    List<String> keys = new ArrayList<>();
    Matcher m = Pattern.compile("`([a-z0-9_]+)`").matcher(paragraph);
    while (m.find()) {
      keys.add(m.group(1));
    }
    return keys;
  }
}
