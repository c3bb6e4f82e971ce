package io.pgtrail.testing;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.Map;
import java.util.stream.Stream;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * Real PostgreSQL servers for tests. {@link #shared(PgVersion)} gives one server per major for the
 * whole test JVM (a test class takes its own databases and uniquely named roles on it);
 * {@link #start(PgVersion, UnaryOperator)} gives a private server for tests that stop, restart or
 * reconfigure it.
 */
public final class TestPostgres {
  private static final Map<PgVersion, LocalPostgres> SHARED = new EnumMap<>(PgVersion.class);
  private static final AtomicInteger DATABASE_COUNTER = new AtomicInteger();

  private TestPostgres() {}

  /** A data directory this old with no live postmaster belongs to a test JVM that ended before its cleanup. */
  private static final Duration STALE_AFTER = Duration.ofMinutes(10);
  private static boolean swept;

  public static synchronized LocalPostgres shared(PgVersion version) {
    if (!swept) {
      swept = true;
      removeStaleDataDirectories(Path.of(System.getProperty("java.io.tmpdir")));
    }
    return SHARED.computeIfAbsent(version, v -> {
      // Many test classes share this server and slots are per server: leave room for all of them.
      LocalPostgres server = start(v, b -> b.maxReplicationSlots(400).maxWalSenders(100));
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          server.close();
        } catch (IOException ignored) {
          // the JVM is going away; the temp directory is the OS's to clean
        }
      }));
      return server;
    });
  }

  /**
   * Removes the data directories of servers that no longer run. The shared servers close on JVM exit, but a
   * forked test JVM may be ended before that finishes (their WAL, kept by the tests' slots, runs to gigabytes),
   * and runs add up until the disk is full.
   */
  static void removeStaleDataDirectories(Path tmp) {
    Instant staleBefore = Instant.now().minus(STALE_AFTER);
    try (Stream<Path> dirs = Files.list(tmp)) {
      // a data directory, and the pg_hba.conf written next to it
      dirs.filter(d -> d.getFileName().toString().startsWith("pgtrail-pg-"))
          .filter(d -> !hasLivePostmaster(d) && lastModifiedBefore(d, staleBefore))
          .forEach(TestPostgres::deleteQuietly);
    } catch (IOException e) {
      // nothing to sweep, or no right to: the tests run all the same
    }
  }

  private static boolean hasLivePostmaster(Path dataDirectory) {
    try {
      String pid = Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).trim();
      return ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | RuntimeException e) {
      return false; // no pid file: not running
    }
  }

  private static boolean lastModifiedBefore(Path path, Instant instant) {
    try {
      return Files.getLastModifiedTime(path).toInstant().isBefore(instant);
    } catch (IOException e) {
      return false;
    }
  }

  private static void deleteQuietly(Path root) {
    try {
      LocalPostgres.deleteRecursively(root);
    } catch (IOException | UncheckedIOException e) {
      // another sweeper got there first
    }
  }

  public static LocalPostgres start(PgVersion version, UnaryOperator<LocalPostgres.Builder> customize) {
    try {
      return customize.apply(LocalPostgres.builder().binariesJar(version.binariesJar())).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + version, e);
    }
  }

  /** A new database with a unique name on the shared server of {@code version}. */
  public static ConnectionSettings newDatabase(PgVersion version, String prefix) {
    return newDatabase(shared(version), prefix);
  }

  public static ConnectionSettings newDatabase(LocalPostgres server, String prefix) {
    String name = prefix.toLowerCase().replaceAll("[^a-z0-9_]", "_") + "_" + DATABASE_COUNTER.incrementAndGet()
        + "_" + ProcessHandle.current().pid();
    return server.createDatabase(name);
  }
}
