package io.pgtrail.testing;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.EnumMap;
import java.util.Map;
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

  public static synchronized LocalPostgres shared(PgVersion version) {
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
