package io.pgtrail.testing;

import io.pgtrail.postgres.embedded.LocalPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A hot standby of a {@link LocalPostgres} primary, streaming through a physical slot. The zonky binaries
 * ship no pg_basebackup, so the base backup is a cold copy: the primary stops for a moment, its data
 * directory is copied (without its slots and lock files, as pg_basebackup leaves them out) and it starts
 * again; the copy gets {@code standby.signal} and its replication settings in {@code postgresql.auto.conf}.
 */
public final class PhysicalStandby {
  /** Files and directory contents a base backup leaves out. */
  private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock");
  private static final Set<String> COPIED_EMPTY = Set.of("pg_replslot", "pg_stat_tmp");

  private PhysicalStandby() {}

  /**
   * Starts a standby of {@code primary} that streams through the physical slot {@code physicalSlot}
   * (created here). With {@code synchronizeSlots} the standby also keeps copies of the primary's failover
   * slots (sync_replication_slots, PostgreSQL 17+), and the primary holds logical decoding back until
   * this standby has the WAL (synchronized_standby_slots): the setup CloudNativePG and Patroni render.
   */
  public static LocalPostgres start(PgVersion version, LocalPostgres primary, String physicalSlot,
      boolean synchronizeSlots) {
    try {
      primary.execute("postgres", "SELECT pg_create_physical_replication_slot('" + physicalSlot + "', true)");
      primary.stop();
      Path copy = Files.createTempDirectory("pgtrail-standby-");
      copyDataDirectory(primary.dataDirectory(), copy);
      primary.restart();
      configureStandby(copy, primary.port(), physicalSlot, synchronizeSlots);
      LocalPostgres standby = TestPostgres.start(version, b -> b.dataDirectory(copy));
      if (synchronizeSlots) {
        // after the copy: a promoted standby must not wait for a standby slot it does not have
        primary.execute("postgres", "ALTER SYSTEM SET synchronized_standby_slots = '" + physicalSlot + "'",
            "SELECT pg_reload_conf()");
      }
      return standby;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start a standby of the server on port " + primary.port(), e);
    }
  }

  /** Promotes the standby and waits until it accepts writes. */
  public static void promote(LocalPostgres standby) {
    standby.execute("postgres", "SELECT pg_promote(true, 60)");
  }

  private static void copyDataDirectory(Path from, Path to) throws IOException {
    try (Stream<Path> paths = Files.walk(from)) {
      for (Path source : (Iterable<Path>) paths::iterator) {
        Path relative = from.relativize(source);
        if (relative.getNameCount() > 0 && (NOT_COPIED.contains(relative.getFileName().toString())
            || relative.getNameCount() > 1 && COPIED_EMPTY.contains(relative.getName(0).toString()))) {
          continue;
        }
        Path target = to.resolve(relative.toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target);
        }
      }
    }
  }

  private static void configureStandby(Path dataDirectory, int primaryPort, String physicalSlot,
      boolean synchronizeSlots) throws IOException {
    Files.createFile(dataDirectory.resolve("standby.signal"));
    // a dbname in primary_conninfo is what slot synchronization connects with
    String settings = String.join("\n",
        "primary_conninfo = 'host=127.0.0.1 port=" + primaryPort + " user=postgres dbname=postgres"
            + " application_name=" + physicalSlot + "'",
        "primary_slot_name = '" + physicalSlot + "'",
        "hot_standby_feedback = on",
        synchronizeSlots ? "sync_replication_slots = on" : "",
        "");
    Files.writeString(dataDirectory.resolve("postgresql.auto.conf"), settings, StandardOpenOption.APPEND);
  }
}
