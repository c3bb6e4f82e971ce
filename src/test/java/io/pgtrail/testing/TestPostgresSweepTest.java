package io.pgtrail.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data directories of servers that ended without cleanup are removed; running or fresh ones are kept. */
class TestPostgresSweepTest {
  @TempDir Path tmp;

  @Test
  void onlyOldDirectoriesWithoutALivePostmasterAreRemoved() throws Exception {
    Path stale = dataDirectory("pgtrail-pg-stale", Duration.ofHours(1), null);
    Path deadPostmaster = dataDirectory("pgtrail-pg-dead", Duration.ofHours(1), "2147483646");
    Path running = dataDirectory("pgtrail-pg-running", Duration.ofHours(1), Long.toString(ProcessHandle.current().pid()));
    Path fresh = dataDirectory("pgtrail-pg-fresh", Duration.ZERO, null);
    Path other = dataDirectory("something-else", Duration.ofHours(1), null);
    Path hba = Files.writeString(tmp.resolve("pgtrail-pg-stale-pg_hba.conf"), "host all all 127.0.0.1/32 trust\n");
    Files.setLastModifiedTime(hba, FileTime.from(Instant.now().minus(Duration.ofHours(1))));

    TestPostgres.removeStaleDataDirectories(tmp);

    assertThat(stale).doesNotExist();
    assertThat(deadPostmaster).doesNotExist();
    assertThat(hba).doesNotExist();
    assertThat(running).exists();
    assertThat(fresh).exists();
    assertThat(other).exists();
  }

  private Path dataDirectory(String name, Duration age, String postmasterPid) throws Exception {
    Path dir = Files.createDirectories(tmp.resolve(name).resolve("base"));
    Files.writeString(dir.resolve("1"), "data");
    Path root = dir.getParent();
    if (postmasterPid != null) {
      Files.writeString(root.resolve("postmaster.pid"), postmasterPid + "\n/data\n");
    }
    Files.setLastModifiedTime(root, FileTime.from(Instant.now().minus(age)));
    return root;
  }
}
