package io.pgtrail.worker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where the machine's CPU went during a run: each process of the two servers (by its role: the source's WAL
 * sender, its client backends, the destination's client backends, its WAL writer...), the worker and the bench
 * itself, read from {@code /proc/<pid>/schedstat} (time on a CPU, time runnable but waiting for one) before and
 * after. On a 2-core machine the run's throughput is bounded by what the destination's writing backend gets, so
 * the line says who else was running.
 */
final class CpuBudget {
  private final Map<String, Long> roots = new LinkedHashMap<>();
  private final Map<String, Long> singles = new LinkedHashMap<>();

  /** A postmaster and its children, counted under {@code label} and each child's role. */
  CpuBudget trackServer(String label, long postmasterPid) {
    roots.put(label, postmasterPid);
    return this;
  }

  /** One process (all its threads, not its children: the bench's JVM is the parent of the servers and the worker). */
  CpuBudget trackProcess(String label, long pid) {
    singles.put(label, pid);
    return this;
  }

  /** The postmaster of a data directory: the first line of its {@code postmaster.pid}. */
  static long postmasterPid(Path dataDirectory) throws IOException {
    return Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim());
  }

  /** Nanoseconds on a CPU and waiting for one, per label and role, now. */
  Map<String, long[]> snapshot() {
    Map<String, long[]> byRole = new TreeMap<>();
    for (Map.Entry<String, Long> root : roots.entrySet()) {
      for (long pid : withChildren(root.getValue())) {
        long[] schedule = schedule(pid);
        if (schedule != null) {
          byRole.merge(root.getKey() + " " + role(pid), schedule, (a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
        }
      }
    }
    for (Map.Entry<String, Long> single : singles.entrySet()) {
      long[] schedule = schedule(single.getValue());
      if (schedule != null) {
        byRole.put(single.getKey(), schedule);
      }
    }
    return byRole;
  }

  /** One line per role that used at least 10 ms between the two snapshots, busiest first. */
  static List<String> describe(Map<String, long[]> before, Map<String, long[]> after) {
    List<Map.Entry<String, long[]>> spent = new ArrayList<>();
    for (Map.Entry<String, long[]> e : after.entrySet()) {
      long[] from = before.getOrDefault(e.getKey(), new long[2]);
      long[] delta = {e.getValue()[0] - from[0], e.getValue()[1] - from[1]};
      if (delta[0] >= 10_000_000L) {
        spent.add(Map.entry(e.getKey(), delta));
      }
    }
    spent.sort((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0]));
    List<String> lines = new ArrayList<>();
    for (Map.Entry<String, long[]> e : spent) {
      lines.add(line(e.getKey(), e.getValue()));
    }
    return lines;
  }

  static String line(String label, long[] schedule) {
    return String.format(Locale.ROOT, "%-32s on a CPU %5.2f s, waiting for one %5.2f s", label, schedule[0] / 1e9,
        schedule[1] / 1e9);
  }

  /** Time on a CPU and waiting for one over a process's whole life; zeros if it cannot be read. */
  static long[] lifetimeSchedule(long pid) {
    long[] schedule = schedule(pid);
    return schedule == null ? new long[2] : schedule;
  }

  private static List<Long> withChildren(long root) {
    List<Long> pids = new ArrayList<>();
    pids.add(root);
    try (var all = Files.list(Path.of("/proc"))) {
      for (Path p : all.toList()) {
        String name = p.getFileName().toString();
        if (name.chars().allMatch(Character::isDigit) && parentOf(p) == root) {
          pids.add(Long.parseLong(name));
        }
      }
    } catch (IOException unreadable) {
      // no /proc: only the root is counted, and only if it can be read
    }
    return pids;
  }

  private static long parentOf(Path proc) {
    try {
      String stat = Files.readString(proc.resolve("stat"));
      return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[1]);
    } catch (IOException | RuntimeException gone) {
      return -1;
    }
  }

  /** A postgres child's role from its title ("postgres: walsender ...", "postgres: walwriter"), or postmaster. */
  private static String role(long pid) {
    try {
      String title = Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ').trim();
      if (!title.startsWith("postgres: ")) {
        return "postmaster";
      }
      String rest = title.substring("postgres: ".length());
      if (rest.startsWith("walsender")) {
        return "walsender";
      }
      if (rest.contains(" idle") || rest.contains("127.0.0.1") || rest.contains("COPY") || rest.contains("INSERT")
          || rest.contains("UPDATE") || rest.contains("DELETE") || rest.contains("SELECT")) {
        return "client backends";
      }
      return rest.split(" ")[0];
    } catch (IOException gone) {
      return "ended";
    }
  }

  private static long[] schedule(long pid) {
    try {
      long[] total = {0, 0};
      // every thread of the process: a JVM's time is spread over its threads
      try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
        for (Path task : tasks.toList()) {
          String[] f = Files.readString(task.resolve("schedstat")).trim().split(" ");
          total[0] += Long.parseLong(f[0]);
          total[1] += Long.parseLong(f[1]);
        }
      }
      return total;
    } catch (IOException | RuntimeException gone) {
      return null;
    }
  }
}
