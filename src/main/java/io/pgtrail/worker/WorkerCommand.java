package io.pgtrail.worker;

import io.pgtrail.observe.HealthServer;
import io.pgtrail.observe.Probe;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code pgtrail worker --config FILE}: one replication worker for one source database. */
@Command(name = "worker", mixinStandardHelpOptions = true,
    description = "Stream a source database's changes into the destination changes table.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:stopped on request (SIGTERM/SIGINT) after acknowledging its last batch",
        "1:stopped on an error it cannot recover from (see the last log line)",
        "2:wrong usage or a bad config (missing or unreadable file, invalid YAML, bad URL, port in use)",
        "3:stopped at a gap in the trail (slot missing or invalidated; onGap: stop), written into changes"})
public final class WorkerCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerCommand.class);

  @Option(names = "--config", required = true, paramLabel = "FILE", description = "Worker YAML config")
  Path config;

  @Override
  public Integer call() throws Exception {
    Worker.Settings settings;
    WorkerConfig parsed;
    try {
      parsed = WorkerConfig.load(config);
      settings = Worker.Settings.from(parsed, System.getenv());
    } catch (IllegalArgumentException e) {
      System.err.println("pgtrail worker: " + e.getMessage());
      return 2;
    }
    WorkerMetrics metrics = new WorkerMetrics();
    io.prometheus.metrics.instrumentation.jvm.JvmMetrics.builder().register(metrics.registry());
    Worker worker = new Worker(settings, metrics);
    // SIGTERM (Kubernetes) and SIGINT: finish the batch, acknowledge it, exit 0
    Signal.handle(new Signal("TERM"), signal -> worker.requestStop());
    Signal.handle(new Signal("INT"), signal -> worker.requestStop());
    HealthServer http = null;
    int port = parsed.metrics().portOrDefault();
    if (port != 0) {
      try {
        http = healthServer(port, metrics, worker).start();
      } catch (java.net.BindException e) {
        System.err.println("pgtrail worker: cannot listen on metrics.port " + port + " (" + e.getMessage()
            + "); choose another port or 0 to disable");
        return 2;
      }
      LOG.info("metrics and health on port {}", http.port());
    }
    try {
      worker.run();
    } finally {
      if (http != null) {
        http.close();
      }
    }
    return worker.awaitStopped(Duration.ZERO) ? worker.exitCode() : 1;
  }

  /**
   * The worker's health endpoint: {@code /healthz} while the replication loop runs; {@code /readyz} while it
   * streams and makes progress (it fails while the worker retries, is stalled or stopped, and when the
   * acknowledged position has not moved for {@code health.stallAfterMs} while the slot has data), its body
   * saying why.
   */
  static HealthServer healthServer(int port, WorkerMetrics metrics, Worker worker) throws IOException {
    return new HealthServer(port, metrics.registry(),
        () -> worker.isAlive() ? Probe.ok("alive") : Probe.failing("stopped"),
        () -> new Probe(worker.isReady(), worker.readiness()));
  }
}
