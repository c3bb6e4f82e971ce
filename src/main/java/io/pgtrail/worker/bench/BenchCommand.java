package io.pgtrail.worker.bench;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.worker.pgoutput.PgOutputDecoder;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PartitionPeriod;
import io.pgtrail.worker.store.Retention;
import io.pgtrail.worker.store.StoreSettings;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pgtrail bench}: the worker (as its own JVM, as in production) between two local embedded PostgreSQL
 * servers, a source with {@code wal_level=logical} and a destination as an audit database would be (its
 * own server, so the source's WAL decoding does not also read the destination's writes), with two
 * references measured in the same run: reading the same slot data without writing it, and COPYing the same
 * rows into an identical, identically indexed changes table.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure worker throughput, latency and memory between two embedded PostgreSQL servers.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:measured", "1:a run failed", "2:wrong usage"})
public final class BenchCommand implements Callable<Integer> {
  /**
   * When a row became visible in the destination: its transaction's commit time (the destination runs with
   * {@code track_commit_timestamp = on}), later than any time taken while the row was being inserted.
   */
  private static final String RECORDED_AT = "pg_xact_commit_timestamp(xmin)";

  private static final int ROWS_PER_STEP = 100; // each transaction: 100 INSERT + 100 UPDATE + 100 DELETE
  private static final String WORKER_SLOT = "bench_worker";
  private static final String REFERENCE_SLOT = "bench_reference";
  /** The GIN cleaner's pause (1 s without a commit) plus its tick (250 ms), and some slack. */
  private static final long WARM_UP_PAUSE_MILLIS = 1500;
  /**
   * The reference COPY is timed this many times, each into a fresh database, and its median taken: one COPY
   * ranged from 73,800 to 77,600 rows/s between runs on the idle machine, most of the spread of copy_ratio.
   */
  private static final int REFERENCE_COPIES = 3;
  /** The warm-up is this many throughput workloads long (see {@link #warmUp}). */
  private static final int WARM_UP_RUNS = 2;

  @Option(names = "--changes", defaultValue = "300000", description = "Changes in the throughput run (default ${DEFAULT-VALUE})")
  int changes;

  @Option(names = "--latency-rate", defaultValue = "5000", description = "Changes/s of the steady latency run (default ${DEFAULT-VALUE})")
  int latencyRate;

  @Option(names = "--latency-seconds", defaultValue = "15", description = "Length of the latency run (default ${DEFAULT-VALUE})")
  int latencySeconds;

  @Option(names = "--worker-jvm-options", defaultValue = "-Xmx128m -XX:+UseSerialGC",
      description = "JVM options of the worker process (default ${DEFAULT-VALUE})")
  String workerJvmOptions;

  @Option(names = "--prefill", defaultValue = "0",
      description = "After the run into an empty store, fill changes with this many rows of history (spread over"
          + " --prefill-days past days, one partition a day) and measure the throughput and the COPY reference again"
          + " (default ${DEFAULT-VALUE}: no second run)")
  long prefill;

  @Option(names = "--prefill-days", defaultValue = "20", description = "Days the pre-filled history spans (default ${DEFAULT-VALUE})")
  int prefillDays;

  @Option(names = "--partition-by", defaultValue = "daily",
      description = "Partitions of the bench's changes table: daily, weekly or monthly (default ${DEFAULT-VALUE})")
  String partitionBy;

  @Option(names = "--verbose",
      description = "Also print the rows written in each half second of the throughput run and the latency of each"
          + " second of the latency run")
  boolean verbose;

  private long nextId = 2 * ROWS_PER_STEP + 1;
  /** On a CPU and waiting for one, in nanoseconds, of the backend of the last workload committed. */
  private long[] lastWorkloadBackend = {0, 0};

  @Override
  public Integer call() throws Exception {
    Path work = Files.createTempDirectory("pgtrail-bench-");
    try (LocalPostgres server = LocalPostgres.builder().dataDirectory(work.resolve("pg-source")).start();
        LocalPostgres destinationServer = LocalPostgres.builder().dataDirectory(work.resolve("pg-destination"))
            .walLevel("replica").serverConfig("track_commit_timestamp", "on").start()) {
      ConnectionSettings source = server.createDatabase("bench_source");
      ConnectionSettings destination = destinationServer.createDatabase("bench_destination");
      prepareSource(server, source);
      prepareDestination(destination, layout());
      try (Connection c = PgConnections.open(source)) {
        ReplicationSlots.ensureLogicalSlot(c, REFERENCE_SLOT);
      }
      System.out.printf("PostgreSQL %s: source on 127.0.0.1:%d, destination on 127.0.0.1:%d; %d CPUs;"
          + " worker JVM: %s%n", serverVersion(source), server.port(), destinationServer.port(),
          Runtime.getRuntime().availableProcessors(), workerJvmOptions);
      System.out.printf("changes partitioned %s; load average before the run: %s%n", layout().period().configName(),
          loadAverage());

      Process worker = startWorker(work, source, destination);
      try {
        awaitSlotActive(source, WORKER_SLOT);
        int transactions = Math.max(1, changes / (3 * ROWS_PER_STEP));
        int throughputChanges = transactions * 3 * ROWS_PER_STEP;

        int warmupChanges = warmUp(source, destination, worker, transactions);
        CpuBudget budget = new CpuBudget().trackServer("source", CpuBudget.postmasterPid(server.dataDirectory()))
            .trackServer("destination", CpuBudget.postmasterPid(destinationServer.dataDirectory()))
            .trackProcess("worker", worker.pid())
            .trackProcess("bench (the workload's client)", ProcessHandle.current().pid());
        stageRows(source, transactions);
        Map<String, long[]> budgetBefore = budget.snapshot();
        Map<Long, long[]> writersBefore = workerDestinationSchedule(destination);
        double cpuBefore = cpuSeconds(worker.pid());
        double compilerCpuBefore = compilerCpuSeconds(worker.pid());
        long loadStarted = System.nanoTime();
        long runStartMicros = nowMicros(destination);
        commitTransactions(source, transactions, 0);
        double loadSeconds = (System.nanoTime() - loadStarted) / 1e9;
        awaitRecorded(source, destination, throughputChanges, worker);
        double workerCpu = cpuSeconds(worker.pid()) - cpuBefore;
        double compilerCpu = compilerCpuSeconds(worker.pid()) - compilerCpuBefore;
        long[] writer = busiestSince(writersBefore, workerDestinationSchedule(destination));
        Map<String, long[]> budgetAfter = budget.snapshot();
        double seconds = runSeconds(destination, runStartMicros);
        double changesPerSecond = throughputChanges / seconds;
        System.out.printf("throughput: %d changes in %d transactions, first commit to last row %.2f s: %.0f changes/s%n",
            throughputChanges, transactions, seconds, changesPerSecond);
        System.out.printf("  (the source workload itself took %.2f s; the worker used %.1f s of CPU, %.1f us a change,"
            + " %.2f s of it in the JIT compiler)%n", loadSeconds, workerCpu, workerCpu * 1e6 / throughputChanges,
            compilerCpu);
        // read before the first commit and after the last row: outside the run the writing backend only idles
        System.out.printf("  (the destination backend writing the batches, in those %.2f s: on a CPU %.2f s, waiting for"
            + " a CPU %.2f s, idle, waiting for the worker, %.2f s)%n", seconds, writer[0] / 1e9, writer[1] / 1e9,
            Math.max(0, seconds - (writer[0] + writer[1]) / 1e9));
        printBudget(budgetBefore, budgetAfter, true);

        if (verbose) {
          printWritesByHalfSecond(destination);
        }
        System.out.printf("  (GIN index entries the worker's cleaner had not merged yet: merged afterwards in %.2f s)%n",
            mergePendingGinEntries(destination));
        settle(source, destination);
        double catchUpPerSecond = catchUp(source, destination, worker, transactions, budget);
        settle(source, destination);
        long latencyStartMicros = nowMicros(destination);
        int latencyTransactions = Math.max(1, latencyRate * latencySeconds / (3 * ROWS_PER_STEP));
        long periodNanos = TimeUnit.SECONDS.toNanos(3L * ROWS_PER_STEP) / latencyRate;
        runTransactions(source, latencyTransactions, periodNanos);
        int total = warmupChanges + 2 * throughputChanges + latencyTransactions * 3 * ROWS_PER_STEP;
        awaitRecorded(source, destination, total - warmupChanges, worker);
        double[] latency = latencyPercentiles(destination, latencyStartMicros);
        if (verbose) {
          printLatencyBySecond(destination, latencyStartMicros);
        }
        System.out.printf("latency at a steady %d changes/s for %d s: p50 %.1f ms, p99 %.1f ms (source commit to row"
            + " in changes)%n", latencyRate, latencySeconds, latency[0], latency[1]);

        Path rows = exportRecordedRows(destination, work, throughputChanges);
        double[] copies = new double[REFERENCE_COPIES];
        double merge = 0;
        for (int i = 0; i < copies.length; i++) {
          ConnectionSettings reference = destinationServer.createDatabase("bench_copy_reference_" + (i + 1));
          copies[i] = copyReference(reference, rows, layout());
          merge = mergePendingGinEntries(reference);
        }
        double copyPerSecond = median(copies);
        System.out.printf("reference COPY: %d of the same rows into an identical changes table, %d times: %s rows/s,"
            + " median %.0f rows/s%n  (GIN index entries each COPY left pending: merged afterwards, the last COPY's in %.2f s)%n",
            throughputChanges, copies.length, joined(copies), copyPerSecond, merge);

        String prefilled = "";
        if (prefill > 0) {
          prefilled = runPrefilled(source, destination, work, worker, transactions, changesPerSecond);
          total += 2 * throughputChanges; // the baseline and the pre-filled run
        }

        long rssKb = peakRssKb(worker.pid());
        worker.destroy();
        worker.waitFor(30, TimeUnit.SECONDS);
        System.out.printf("worker peak RSS: %.0f MB%n", rssKb / 1024.0);

        double readPerSecond = readReference(source, total);
        System.out.printf("reference read: the same slot data (%d changes) read and decoded without writing:"
            + " %.0f changes/s%n", total, readPerSecond);

        System.out.println(String.format(Locale.ROOT,
            "changes=%d changes_per_s=%.0f copy_rows_per_s=%.0f copy_ratio=%.2f catchup_changes_per_s=%.0f"
                + " catchup_copy_ratio=%.2f read_changes_per_s=%.0f"
                + " read_ratio=%.2f p50_ms=%.1f p99_ms=%.1f rss_mb=%.0f%s load_avg=%s",
            throughputChanges, changesPerSecond, copyPerSecond, changesPerSecond / copyPerSecond, catchUpPerSecond,
            catchUpPerSecond / copyPerSecond, readPerSecond,
            changesPerSecond / readPerSecond, latency[0], latency[1], rssKb / 1024.0, prefilled, loadAverage()));
      } catch (Exception e) {
        System.err.println("bench failed: " + e.getMessage() + "\nworker log (last lines):");
        List<String> log = Files.readAllLines(work.resolve("worker.log"));
        log.subList(Math.max(0, log.size() - 30), log.size()).forEach(System.err::println);
        throw e;
      } finally {
        worker.destroyForcibly();
      }
    } finally {
      deleteRecursively(work);
    }
    return 0;
  }

  private ChangesTable.Layout layout() {
    return new ChangesTable.Layout(PartitionPeriod.parse(partitionBy), 2);
  }

  /** The 1, 5 and 15 minute load averages: the machine may be shared, and the figures depend on it. */
  static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + "/" + f[1] + "/" + f[2];
    } catch (Exception e) {
      return "unknown";
    }
  }

  /**
   * Twice the throughput workload through the worker, then removed: the runs measure a worker as it runs for
   * days, its code compiled, not its first seconds. Cold, its JIT compiler took about 0.9 s of CPU during a 5 s run
   * on 2 cores, CPU the destination then lacks, while the reference COPY runs in PostgreSQL's compiled code; after a
   * warm-up of a quarter of the workload it still took about 0.2 s. The pause after it lets the worker's GIN cleaner
   * merge the (emptied) lists now, so that, as in the reference COPY, no merge falls into a run shorter than the
   * cleaner's 10 s (both print the merge work they left afterwards).
   */
  private int warmUp(ConnectionSettings source, ConnectionSettings destination, Process worker, int transactions)
      throws Exception {
    int warmup = Math.max(1, transactions * WARM_UP_RUNS);
    runTransactions(source, warmup, 0);
    awaitRecorded(source, destination, warmup * 3L * ROWS_PER_STEP, worker);
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement()) {
      s.execute("TRUNCATE changes");
    }
    Thread.sleep(WARM_UP_PAUSE_MILLIS);
    System.out.printf("warm-up: %d changes through the worker, then removed%n", warmup * 3 * ROWS_PER_STEP);
    return warmup * 3 * ROWS_PER_STEP;
  }

  /**
   * The same workload committed while the worker is stopped (SIGSTOP: warm, its connections open), then the worker
   * resumed (SIGCONT) with all of it waiting in the slot: changes/s from the resume to the last row. Unlike the live
   * run, the source's own workload does not compete for these 2 cores with the destination while it is measured,
   * as on a source server of its own; the source's WAL sender, decoding for the worker, still does.
   */
  private double catchUp(ConnectionSettings source, ConnectionSettings destination, Process worker, int transactions,
      CpuBudget budget) throws Exception {
    int catchUpChanges = transactions * 3 * ROWS_PER_STEP;
    long sinceMicros = nowMicros(destination);
    signal(worker, "STOP");
    long resumeMicros;
    double cpuBefore;
    Map<String, long[]> budgetBefore;
    try {
      runTransactions(source, transactions, 0);
    } finally {
      budgetBefore = budget.snapshot();
      cpuBefore = cpuSeconds(worker.pid());
      resumeMicros = nowMicros(destination);
      signal(worker, "CONT");
    }
    awaitRecorded(source, destination, catchUpChanges, worker, sinceMicros);
    double workerCpu = cpuSeconds(worker.pid()) - cpuBefore;
    Map<String, long[]> budgetAfter = budget.snapshot();
    double seconds;
    try (Connection c = PgConnections.open(destination); PreparedStatement ps = c.prepareStatement(
        "SELECT extract(epoch FROM max(" + RECORDED_AT + ") - to_timestamp(? / 1000000.0)) FROM changes"
            + " WHERE committed_at >= to_timestamp(? / 1000000.0)")) {
      ps.setLong(1, resumeMicros);
      ps.setLong(2, sinceMicros);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        seconds = rs.getDouble(1);
      }
    }
    double perSecond = catchUpChanges / seconds;
    System.out.printf("catch-up: the same %d changes waiting in the slot, the worker resumed: last row after %.2f s:"
        + " %.0f changes/s%n  (the worker used %.1f s of CPU, %.1f us a change)%n", catchUpChanges, seconds, perSecond,
        workerCpu, workerCpu * 1e6 / catchUpChanges);
    printBudget(budgetBefore, budgetAfter, false);
    System.out.printf("  (GIN index entries the worker's cleaner had not merged yet: merged afterwards in %.2f s)%n",
        mergePendingGinEntries(destination));
    return perSecond;
  }

  /**
   * Who used the machine's CPU in the run, busiest first (see {@link CpuBudget}); {@code workloadInRun}: the
   * source workload committed inside the run (live), not before it (catch-up).
   */
  private void printBudget(Map<String, long[]> before, Map<String, long[]> after, boolean workloadInRun) {
    System.out.println("  (CPU in the run, by process:");
    if (workloadInRun) {
      System.out.println("     " + CpuBudget.line("source workload backend", lastWorkloadBackend));
    }
    CpuBudget.describe(before, after).forEach(line -> System.out.println("     " + line));
    System.out.println("  )");
  }

  private static void signal(Process process, String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  /** First source commit to the destination commit of the last of the changes committed since {@code sinceMicros}. */
  private static double runSeconds(ConnectionSettings destination, long sinceMicros) throws Exception {
    try (Connection c = PgConnections.open(destination); PreparedStatement ps = c.prepareStatement(
        "SELECT extract(epoch FROM max(" + RECORDED_AT + ") - min(committed_at)) FROM changes"
            + " WHERE committed_at >= to_timestamp(? / 1000000.0)")) {
      ps.setLong(1, sinceMicros);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getDouble(1);
      }
    }
  }

  /**
   * The growth run: the store emptied, filled with {@link #prefill} rows of history in past days' partitions,
   * then the COPY reference (the same rows as the empty-store reference, into this pre-filled table, rolled back)
   * and the same workload through the worker again. Both write into today's partition, empty each time, as a
   * store with retention or a new day would. Then retention drops the oldest pre-filled partition, timed.
   */
  private String runPrefilled(ConnectionSettings source, ConnectionSettings destination, Path work, Process worker,
      int transactions, double emptyChangesPerSecond) throws Exception {
    int throughputChanges = transactions * 3 * ROWS_PER_STEP;
    // the baseline: exactly the steps of the pre-filled measurement below, on the emptied store, so that the
    // two differ only by the history (a fresh database, as the first run's reference, is not the same state)
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement()) {
      s.execute("TRUNCATE changes");
      s.execute("CHECKPOINT");
    }
    double baselineCopy = copyIntoPrefilled(destination, work);
    double baseline = measureRun(source, destination, worker, transactions);
    emptyChangesPerSecond = baseline;
    System.out.printf("baseline on the emptied store, same steps as below: COPY %.0f rows/s, worker %.0f changes/s"
        + " (COPY ratio %.2f)%n", baselineCopy, baseline, baseline / baselineCopy);
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement()) {
      s.execute("TRUNCATE changes");
    }
    System.out.printf("pre-filling changes with %,d rows over %d past days (load average %s)...%n", prefill,
        prefillDays, loadAverage());
    long started = System.nanoTime();
    List<String> partitions = StorePrefill.fill(destination, prefill, prefillDays, java.time.Instant.now(), 2);
    double prefillSeconds = (System.nanoTime() - started) / 1e9;
    long prefilledIndexes;
    long todaysIndexes;
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement()) {
      s.execute("ANALYZE changes");
      s.execute("CHECKPOINT");
      prefilledIndexes = (long) querySeconds(destination, "SELECT count(*) FROM pg_index WHERE indrelid = '"
          + partitions.get(0) + "'::regclass");
      todaysIndexes = (long) querySeconds(destination, "SELECT count(*) FROM pg_index WHERE indrelid = '"
          + ChangesPartitions.nameFor(java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.DAYS))
          + "'::regclass");
    }
    // the pre-fill leaves gigabytes of dirty pages in the OS cache; their write-back must not fall into the
    // measured runs (the baseline had none)
    long syncStarted = System.nanoTime();
    new ProcessBuilder("sync").inheritIO().start().waitFor();
    System.out.printf("(the pre-fill's dirty pages written to disk before measuring: sync took %.1f s)%n",
        (System.nanoTime() - syncStarted) / 1e9);
    if (prefilledIndexes != todaysIndexes) {
      throw new IllegalStateException("a pre-filled partition has " + prefilledIndexes + " indexes, today's "
          + todaysIndexes + ": ATTACH did not adopt the pre-built ones");
    }
    System.out.printf("pre-filled %,d rows into %d partitions in %.1f s (%.0f rows/s; two at a time: %s)%n", prefill,
        partitions.size(), prefillSeconds, prefill / prefillSeconds, StorePrefill.stepSummary());

    double copyPerSecond = copyIntoPrefilled(destination, work);
    System.out.printf("reference COPY into the pre-filled changes table: %d rows: %.0f rows/s%n", throughputChanges,
        copyPerSecond);

    double changesPerSecond = measureRun(source, destination, worker, transactions);
    System.out.printf("throughput with %,d rows pre-filled: %d changes: %.0f changes/s (%.2fx the baseline's %.0f;"
        + " COPY ratio %.2f)%n", prefill, throughputChanges, changesPerSecond, changesPerSecond / emptyChangesPerSecond,
        emptyChangesPerSecond, changesPerSecond / copyPerSecond);

    double dropMillis;
    long droppedRows;
    try (Connection c = PgConnections.open(destination)) {
      ChangesPartitions.Partition oldest = ChangesPartitions.list(c).stream()
          .filter(p -> p.name().equals(partitions.get(0))).findFirst().orElseThrow();
      Retention.Removed removed = Retention.remove(c, oldest, java.time.Instant.now(), StoreSettings.RetentionMode.DROP);
      dropMillis = removed.took().toNanos() / 1e6;
      droppedRows = oldest.estimatedRows();
    }
    System.out.printf("retention: dropped partition %s (%,d rows) in %.0f ms%n", partitions.get(0), droppedRows,
        dropMillis);
    return String.format(Locale.ROOT, " baseline_changes_per_s=%.0f baseline_copy_rows_per_s=%.0f prefill_rows=%d"
        + " prefill_s=%.1f prefilled_changes_per_s=%.0f prefilled_vs_empty=%.2f prefilled_copy_rows_per_s=%.0f"
        + " prefilled_copy_ratio=%.2f drop_rows=%d drop_ms=%.0f",
        baseline, baselineCopy, prefill, prefillSeconds, changesPerSecond, changesPerSecond / emptyChangesPerSecond,
        copyPerSecond, changesPerSecond / copyPerSecond, droppedRows, dropMillis);
  }

  /** The throughput workload through the worker; changes/s from the first source commit to the last row. */
  private double measureRun(ConnectionSettings source, ConnectionSettings destination, Process worker,
      int transactions) throws Exception {
    Thread.sleep(1000);
    long runStartMicros = nowMicros(destination);
    runTransactions(source, transactions, 0);
    awaitRecorded(source, destination, transactions * 3L * ROWS_PER_STEP, worker, runStartMicros);
    return transactions * 3 * ROWS_PER_STEP / runSeconds(destination, runStartMicros);
  }

  /**
   * COPY the empty-store reference's rows (same ids: the store was emptied) into the pre-filled table, timed, and
   * roll it back; then empty the partitions that took them (today's and the default), so the worker's run starts
   * from the same state.
   */
  private static double copyIntoPrefilled(ConnectionSettings destination, Path work) throws Exception {
    double perSecond;
    try (Connection c = PgConnections.open(destination);
        InputStream in = new BufferedInputStream(Files.newInputStream(work.resolve("changes.copy")))) {
      c.setAutoCommit(false);
      long started = System.nanoTime();
      long copied = c.unwrap(PGConnection.class).getCopyAPI().copyIn(
          "COPY changes (" + ChangesTable.copyColumnList() + ") FROM STDIN (FORMAT binary)", in, 1 << 16);
      perSecond = copied / ((System.nanoTime() - started) / 1e9);
      List<String> touched = new ArrayList<>();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT DISTINCT tableoid::regclass::text FROM changes"
          + " WHERE committed_at >= current_date - 1")) {
        while (rs.next()) {
          touched.add(rs.getString(1));
        }
      }
      c.rollback();
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        s.execute("TRUNCATE " + String.join(", ", touched));
        s.execute("CHECKPOINT");
      }
    }
    return perSecond;
  }

  /**
   * The latency run measures a steady state, not the aftermath of the burst: vacuum and checkpoint now,
   * rather than let autovacuum and a checkpoint start in its first seconds.
   */
  private static void settle(ConnectionSettings source, ConnectionSettings destination) throws Exception {
    try (Connection s = PgConnections.open(source); Connection d = PgConnections.open(destination)) {
      s.createStatement().execute("VACUUM ANALYZE orders");
      d.createStatement().execute("VACUUM ANALYZE changes");
      d.createStatement().execute("CHECKPOINT");
    }
    Thread.sleep(1000);
  }

  /**
   * New GIN entries wait in pending lists until merged in bulk (by the worker's cleaner, vacuum, or a writer
   * that finds a list full): the merge work a throughput figure leaves for later, printed next to it.
   */
  private static double mergePendingGinEntries(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db); Statement s = c.createStatement()) {
      long started = System.nanoTime();
      s.execute("SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
          + " JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin' AND c.relkind = 'i'"
          + " AND i.indrelid IN (SELECT relid FROM pg_partition_tree('changes'))");
      return (System.nanoTime() - started) / 1e9;
    }
  }

  /** Seven columns of text, numeric, timestamptz and jsonb; about 200 bytes a row. */
  private static void prepareSource(LocalPostgres server, ConnectionSettings source) {
    server.execute(source.database(),
        "CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL, note text, amount numeric(12,2),"
            + " weight numeric, placed_at timestamptz NOT NULL, attributes jsonb)",
        "ALTER TABLE orders REPLICA IDENTITY FULL",
        "CREATE PUBLICATION bench FOR TABLE orders",
        // the rows the workload inserts, computed before it runs (unlogged: no WAL, so nothing to decode)
        "CREATE UNLOGGED TABLE bench_rows (LIKE orders INCLUDING ALL)",
        // one transaction of the workload in one call: one round trip and cached plans, so the workload's own
        // client and backend take as little as they can of the 2 cores the measured pipeline runs on
        "CREATE FUNCTION bench_step(first bigint, size int) RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
            + " INSERT INTO orders SELECT id, customer, note, amount, weight, now(), attributes FROM bench_rows"
            + " WHERE id BETWEEN first AND first + size - 1;"
            + " UPDATE orders SET amount = amount + 1, placed_at = now() WHERE id BETWEEN first - size AND first - 1;"
            + " DELETE FROM orders WHERE id BETWEEN first - 2 * size AND first - size - 1;"
            + " END $$",
        // two transactions' worth of rows before the slots exist, so the first UPDATE and DELETE find rows
        "INSERT INTO orders SELECT g, 'customer', 'prefill', 0, 0, now(), '{}' FROM generate_series(1, "
            + 2 * ROWS_PER_STEP + ") g");
  }

  /**
   * The store exactly as the worker creates it. Its {@code created_at} is the writing transaction's start
   * ({@code now()}); the bench times rows by their destination commit ({@link #RECORDED_AT}) instead of changing
   * that default: a volatile default such as {@code clock_timestamp()} makes COPY insert row by row instead of in
   * multi-row batches (the reference COPY took 4.11 s of CPU with it, 3.89 to 4.02 s without).
   */
  private static void prepareDestination(ConnectionSettings destination, ChangesTable.Layout layout) throws Exception {
    try (Connection c = PgConnections.open(destination)) {
      ChangesTable.ensure(c, layout, java.time.Instant.now());
    }
  }

  private Process startWorker(Path work, ConnectionSettings source, ConnectionSettings destination)
      throws Exception {
    Path config = work.resolve("worker.yaml");
    Files.writeString(config, String.join("\n",
        "source: { url: \"" + source.redacted() + "\" }",
        "slot: " + WORKER_SLOT,
        "publication: bench",
        "destination: { url: \"" + destination.redacted() + "\" }",
        "metrics: { port: 0 }",
        "store: { partitionBy: " + partitionBy + " }",
        ""));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(workerJvmOptions.trim().split("\\s+")));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.pgtrail.Main", "worker",
        "--config", config.toString()));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(work.resolve("worker.log").toFile());
    builder.environment().put("PGTRAIL_LOG_LEVEL", "WARN");
    return builder.start();
  }

  private static void awaitSlotActive(ConnectionSettings source, String slot) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      try (Connection c = PgConnections.open(source)) {
        var status = ReplicationSlots.read(c, slot);
        if (status.isPresent() && status.get().active()) {
          return;
        }
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the worker did not start streaming within 60 s");
  }

  /**
   * Transactions of 100 INSERTs, 100 UPDATEs of rows inserted one transaction earlier and 100 DELETEs of
   * rows inserted two transactions earlier; {@code periodNanos} paces them (0: as fast as possible).
   */
  private void runTransactions(ConnectionSettings source, int transactions, long periodNanos) throws Exception {
    stageRows(source, transactions);
    commitTransactions(source, transactions, periodNanos);
  }

  /**
   * Computes the rows the next {@code transactions} will insert ({@code md5}, {@code jsonb_build_object}: about
   * a third of the workload backend's CPU), before the run, so the measured run's source backend only writes.
   */
  private void stageRows(ConnectionSettings source, int transactions) throws Exception {
    try (Connection c = PgConnections.open(source); Statement s = c.createStatement()) {
      s.execute("TRUNCATE bench_rows");
      s.execute("INSERT INTO bench_rows SELECT g, 'customer-' || (g % 997), 'note ' || md5(g::text),"
          + " (g % 100000) / 100.0, g * 0.001, now(),"
          + " jsonb_build_object('channel', 'web', 'items', g % 7, 'tags', jsonb_build_array('a', 'b'))"
          + " FROM generate_series(" + nextId + ", " + (nextId + (long) transactions * ROWS_PER_STEP - 1) + ") g");
      s.execute("ANALYZE bench_rows");
    }
  }

  private void commitTransactions(ConnectionSettings source, int transactions, long periodNanos) throws Exception {
    try (Connection c = PgConnections.open(source); Statement s = c.createStatement();
        PreparedStatement step = c.prepareStatement("SELECT bench_step(?, " + ROWS_PER_STEP + ")")) {
      // the embedded server defaults to asynchronous commit, which delays WAL (and so decoding) by up to 200 ms
      s.execute("SET synchronous_commit = on");
      long backendPid;
      try (ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        backendPid = rs.getLong(1);
      }
      long start = System.nanoTime();
      for (int t = 0; t < transactions; t++) {
        long first = nextId;
        nextId += ROWS_PER_STEP;
        step.setLong(1, first);
        step.execute(); // autocommit: the call is its transaction
        if (periodNanos > 0) {
          long due = start + (t + 1) * periodNanos;
          long wait = due - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
      }
      // a backend of its own, so its whole life is the workload's; it ends with the connection, before any snapshot
      lastWorkloadBackend = CpuBudget.lifetimeSchedule(backendPid);
    }
  }

  /**
   * Waits until the worker has acknowledged the source's current WAL position (it acknowledges only what
   * the destination has committed), then checks that the destination holds {@code expected} changes.
   * Watching the slot is a catalog read; counting the growing table while the worker writes would take CPU
   * from the worker being measured. Gives up after 60 s without progress.
   */
  private static void awaitRecorded(ConnectionSettings source, ConnectionSettings destination, long expected,
      Process worker) throws Exception {
    awaitRecorded(source, destination, expected, worker, 0);
  }

  private static void awaitRecorded(ConnectionSettings source, ConnectionSettings destination, long expected,
      Process worker, long sinceMicros) throws Exception {
    try (Connection s = PgConnections.open(source); PreparedStatement acknowledged = s.prepareStatement(
        "SELECT pg_wal_lsn_diff(?::pg_lsn, confirmed_flush_lsn) FROM pg_replication_slots WHERE slot_name = ?")) {
      acknowledged.setString(1, currentWalLsn(s));
      acknowledged.setString(2, WORKER_SLOT);
      long lastProgress = System.nanoTime();
      double behind = Double.MAX_VALUE;
      while (true) {
        if (!worker.isAlive()) {
          throw new IllegalStateException("the worker process exited with " + worker.exitValue());
        }
        double now;
        try (ResultSet rs = acknowledged.executeQuery()) {
          rs.next();
          now = rs.getDouble(1);
        }
        if (now <= 0) {
          break;
        }
        if (now < behind) {
          behind = now;
          lastProgress = System.nanoTime();
        } else if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(60)) {
          throw new IllegalStateException("the worker stopped acknowledging " + (long) now
              + " bytes before the end of the source WAL; no progress for 60 s");
        }
        Thread.sleep(50);
      }
    }
    long recorded = (long) querySeconds(destination, "SELECT count(*) FROM changes WHERE committed_at >= to_timestamp("
        + sinceMicros + " / 1000000.0) AND operation <> 'MESSAGE'");
    if (recorded < expected) {
      throw new IllegalStateException("the worker acknowledged everything but only " + recorded + " of "
          + expected + " changes are in the destination");
    }
  }

  private static String currentWalLsn(Connection c) throws SQLException {
    try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_current_wal_lsn()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private static double querySeconds(ConnectionSettings db, String sql) throws Exception {
    try (Connection c = PgConnections.open(db); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getDouble(1);
    }
  }

  private static long nowMicros(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db); ResultSet rs = c.createStatement().executeQuery(
        "SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static double[] latencyPercentiles(ConnectionSettings destination, long sinceMicros) throws Exception {
    try (Connection c = PgConnections.open(destination); var ps = c.prepareStatement(
        "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)"
            + " FROM (SELECT extract(epoch FROM " + RECORDED_AT + " - committed_at) * 1000 AS ms FROM changes"
            + " WHERE committed_at >= to_timestamp(? / 1000000.0)) latencies")) {
      ps.setLong(1, sinceMicros);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new double[] {rs.getDouble(1), rs.getDouble(2)};
      }
    }
  }

  /**
   * Time on a CPU and time runnable but waiting for one ({@code /proc/<pid>/schedstat}, nanoseconds) of each
   * backend the worker holds on the destination: the writing one, the GIN cleaner, the store maintenance.
   */
  private static Map<Long, long[]> workerDestinationSchedule(ConnectionSettings destination) throws Exception {
    Map<Long, long[]> schedule = new HashMap<>();
    try (Connection c = PgConnections.open(destination); ResultSet rs = c.createStatement().executeQuery(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            + " AND backend_type = 'client backend'")) {
      while (rs.next()) {
        try {
          String[] f = Files.readString(Path.of("/proc/" + rs.getLong(1) + "/schedstat")).trim().split(" ");
          schedule.put(rs.getLong(1), new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])});
        } catch (IOException | RuntimeException unreadable) {
          // a backend that ended, or a kernel without schedstat: not counted
        }
      }
    }
    return schedule;
  }

  /** The change of the backend that spent the most time on a CPU between the two readings: the writing one. */
  private static long[] busiestSince(Map<Long, long[]> before, Map<Long, long[]> after) {
    long[] busiest = {0, 0};
    for (Map.Entry<Long, long[]> e : after.entrySet()) {
      long[] from = before.getOrDefault(e.getKey(), new long[2]);
      long[] delta = {e.getValue()[0] - from[0], e.getValue()[1] - from[1]};
      if (delta[0] > busiest[0]) {
        busiest = delta;
      }
    }
    return busiest;
  }

  /** CPU time of the JVM's JIT compiler threads ({@code C1 CompilerThre}, {@code C2 CompilerThre}) of a process. */
  private static double compilerCpuSeconds(long pid) throws Exception {
    double seconds = 0;
    try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
      for (Path task : tasks.toList()) {
        try {
          String stat = Files.readString(task.resolve("stat"));
          if (stat.contains("CompilerThre")) {
            seconds += ticksToSeconds(stat);
          }
        } catch (IOException gone) {
          // a compiler thread that ended between listing and reading: its time is no longer counted anywhere
        }
      }
    }
    return seconds;
  }

  /** User plus system CPU time of a process, from /proc (clock ticks of 1/100 s on Linux). */
  private static double cpuSeconds(long pid) throws Exception {
    return ticksToSeconds(Files.readString(Path.of("/proc/" + pid + "/stat")));
  }

  /** utime + stime of a /proc stat line (fields 14 and 15, after the command name in parentheses). */
  private static double ticksToSeconds(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) / 100.0;
  }

  private static void printWritesByHalfSecond(ConnectionSettings destination) throws Exception {
    try (Connection c = PgConnections.open(destination); ResultSet rs = c.createStatement().executeQuery(
        "WITH t AS (SELECT min(committed_at) AS start FROM changes)"
            + " SELECT floor(extract(epoch FROM " + RECORDED_AT + " - t.start) * 2) / 2 AS second, count(*)"
            + " FROM changes, t GROUP BY 1 ORDER BY 1")) {
      while (rs.next()) {
        System.out.printf("  %5.1f s: %6d rows written%n", rs.getDouble(1), rs.getLong(2));
      }
    }
  }

  private static void printLatencyBySecond(ConnectionSettings destination, long sinceMicros) throws Exception {
    try (Connection c = PgConnections.open(destination); var ps = c.prepareStatement(
        "SELECT to_char(date_trunc('second', committed_at), 'HH24:MI:SS'), count(*),"
            + " round(avg(ms)::numeric, 1), round(max(ms)::numeric, 1)"
            + " FROM (SELECT committed_at, extract(epoch FROM " + RECORDED_AT + " - committed_at) * 1000 AS ms FROM changes"
            + " WHERE committed_at >= to_timestamp(? / 1000000.0)) l GROUP BY 1 ORDER BY 1")) {
      ps.setLong(1, sinceMicros);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          System.out.printf("  %s %6d changes, latency avg %7s ms, max %7s ms%n", rs.getString(1), rs.getLong(2),
              rs.getString(3), rs.getString(4));
        }
      }
    }
  }

  private static long peakRssKb(long pid) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmHWM:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }

  private static String serverVersion(ConnectionSettings db) throws Exception {
    try (Connection c = PgConnections.open(db);
        ResultSet rs = c.createStatement().executeQuery("SHOW server_version")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Streams the reference slot from its start to the current WAL end, decoding every message. */
  private static double readReference(ConnectionSettings source, long expectedChanges) throws Exception {
    long end;
    int major;
    try (Connection c = PgConnections.open(source);
        ResultSet rs = c.createStatement().executeQuery("SELECT pg_current_wal_lsn()::text")) {
      rs.next();
      end = LogSequenceNumber.valueOf(rs.getString(1)).asLong();
      major = c.getMetaData().getDatabaseMajorVersion();
    }
    PGConnection replication = PgConnections.openReplication(source);
    try (PGReplicationStream stream = replication.getReplicationAPI().replicationStream().logical()
        .withSlotName(REFERENCE_SLOT)
        .withSlotOption("proto_version", Integer.toString(PgOutputDecoder.protocolVersionFor(major)))
        .withSlotOption("publication_names", "bench")
        .withSlotOption("messages", true)
        .start()) {
      long rows = 0;
      long started = 0;
      while (rows < expectedChanges) {
        ByteBuffer data = stream.readPending();
        if (data == null) {
          if (Long.compareUnsigned(stream.getLastReceiveLSN().asLong(), end) >= 0 && started != 0) {
            break;
          }
          Thread.sleep(1);
          continue;
        }
        if (started == 0) {
          started = System.nanoTime();
        }
        PgOutputMessage m = PgOutputDecoder.decode(data);
        if (m instanceof PgOutputMessage.Insert || m instanceof PgOutputMessage.Update
            || m instanceof PgOutputMessage.Delete) {
          rows++;
        }
      }
      return rows / ((System.nanoTime() - started) / 1e9);
    } finally {
      ((Connection) replication).close();
    }
  }

  /** The first {@code rows} recorded rows, in binary COPY format, as the references' input. */
  private static Path exportRecordedRows(ConnectionSettings destination, Path work, int rows) throws Exception {
    Path data = work.resolve("changes.copy");
    try (Connection c = PgConnections.open(destination);
        OutputStream out = new BufferedOutputStream(Files.newOutputStream(data))) {
      c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (SELECT " + ChangesTable.copyColumnList()
          + " FROM changes ORDER BY committed_at, position LIMIT " + rows + ") TO STDOUT (FORMAT binary)", out);
    }
    return data;
  }

  /** Rows/s of one COPY of {@code data} into a fresh, identically indexed changes table, in binary format. */
  private static double copyReference(ConnectionSettings reference, Path data, ChangesTable.Layout layout)
      throws Exception {
    String columns = ChangesTable.copyColumnList();
    try (Connection c = PgConnections.open(reference); InputStream in = new BufferedInputStream(Files.newInputStream(data))) {
      ChangesTable.ensure(c, layout, java.time.Instant.now());
      long backendPid;
      try (ResultSet rs = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        backendPid = rs.getLong(1);
      }
      c.setAutoCommit(false);
      long[] before = CpuBudget.lifetimeSchedule(backendPid);
      long started = System.nanoTime();
      long copied = c.unwrap(PGConnection.class).getCopyAPI().copyIn(
          "COPY changes (" + columns + ") FROM STDIN (FORMAT binary)", in, 1 << 16);
      c.commit();
      double seconds = (System.nanoTime() - started) / 1e9;
      long[] after = CpuBudget.lifetimeSchedule(backendPid);
      System.out.printf("  (the reference's backend, in those %.2f s: on a CPU %.2f s, waiting for a CPU %.2f s)%n",
          seconds, (after[0] - before[0]) / 1e9, (after[1] - before[1]) / 1e9);
      return copied / seconds;
    }
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  private static String joined(double[] values) {
    List<String> parts = new ArrayList<>();
    for (double v : values) {
      parts.add(String.format(Locale.ROOT, "%.0f", v));
    }
    return String.join(" / ", parts);
  }

  private static void deleteRecursively(Path root) {
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception ignored) {
      // a temp directory left behind is harmless
    }
  }
}
