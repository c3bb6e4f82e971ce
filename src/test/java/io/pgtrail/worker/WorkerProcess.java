package io.pgtrail.worker;

import io.pgtrail.postgres.connect.ConnectionSettings;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** {@code pgtrail worker} in a JVM of its own, started from the test classpath. */
public final class WorkerProcess implements AutoCloseable {
  private final Process process;
  private final Path log;

  private WorkerProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /** Writes a config for source → destination and returns its path. */
  public static Path config(Path dir, ConnectionSettings source, ConnectionSettings destination, String slot)
      throws IOException {
    Path file = dir.resolve("worker-" + slot + ".yaml");
    Files.writeString(file, String.join("\n",
        "source: { url: \"" + source.redacted() + "\" }",
        "slot: " + slot,
        "publication: p",
        "destination: { url: \"" + destination.redacted() + "\" }",
        "metrics: { port: 0 }",
        "reconnect: { initialDelayMs: 100, maxDelayMs: 1000 }",
        ""));
    return file;
  }

  public static WorkerProcess start(Path config, String... jvmOptions) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(jvmOptions));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.pgtrail.Main", "worker",
        "--config", config.toString()));
    Path log = Files.createTempFile(config.getParent(), "worker-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    builder.environment().put("PGTRAIL_LOG_LEVEL", "INFO");
    return new WorkerProcess(builder.start(), log);
  }

  /** SIGKILL: no chance to flush or acknowledge anything. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(10, TimeUnit.SECONDS);
  }

  /** SIGTERM; returns the exit code, or -1 when the process did not exit in time. */
  public int terminate(Duration timeout) throws InterruptedException {
    process.destroy();
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  /** The exit code of a process that ended (137 after SIGKILL). */
  public int exitCode() {
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public String output() throws IOException {
    return Files.readString(log);
  }

  public File logFile() {
    return log.toFile();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
