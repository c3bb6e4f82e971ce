package io.pgtrail.worker;

import io.pgtrail.postgres.ConnectionSettings;
import io.pgtrail.postgres.PgConnections;
import io.pgtrail.postgres.ReplicationSlots;
import io.pgtrail.ssh.SshTunnel;
import io.pgtrail.ssh.SshTunnelException;
import io.pgtrail.ssh.SshTunnelSettings;
import io.pgtrail.worker.pgoutput.PgOutputDecoder;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import io.pgtrail.worker.sink.ChangeSink;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PendingListCleaner;
import io.pgtrail.worker.store.StoreMaintenance;
import io.pgtrail.worker.store.StoreSettings;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication loop: stream pgoutput from the source slot, assemble changes, write them in batches
 * to the destination, and acknowledge to the slot only what the destination has committed. Any failure
 * drops the connections and the unwritten batch and reconnects with capped exponential backoff; the slot
 * then sends again everything after the acknowledged position, and the unique key absorbs the replay.
 */
public final class Worker implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
  private static final long STATUS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final Duration DESTINATION_SOCKET_TIMEOUT = Duration.ofMinutes(2);
  private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(3);
  private static final long LAG_QUERY_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** Everything the loop needs, resolved (passwords included) from the config. */
  public record Settings(
      ConnectionSettings source,
      ConnectionSettings destination,
      String slot,
      String publication,
      ColumnFilter ignoreColumns,
      int batchMaxRows,
      Duration batchMaxDelay,
      Duration reconnectInitialDelay,
      Duration reconnectMaxDelay,
      SshTunnelSettings sourceTunnel,
      StoreSettings store) {

    /** Settings with the default audit store (a new changes table partitioned weekly, no retention). */
    public Settings(ConnectionSettings source, ConnectionSettings destination, String slot, String publication,
        ColumnFilter ignoreColumns, int batchMaxRows, Duration batchMaxDelay, Duration reconnectInitialDelay,
        Duration reconnectMaxDelay, SshTunnelSettings sourceTunnel) {
      this(source, destination, slot, publication, ignoreColumns, batchMaxRows, batchMaxDelay, reconnectInitialDelay,
          reconnectMaxDelay, sourceTunnel, StoreSettings.DEFAULT);
    }

    public static Settings from(WorkerConfig config, java.util.Map<String, String> env) {
      return new Settings(config.sourceSettings(env), config.destinationSettings(env), config.slot(),
          config.publication(), ColumnFilter.parse(config.ignoreColumns()), config.batch().maxRowsOrDefault(),
          config.batch().maxDelay(), config.reconnect().initialDelay(), config.reconnect().maxDelay(),
          config.sshTunnelSettings(), config.store().toSettings());
    }
  }

  private final Settings settings;
  private final WorkerMetrics metrics;
  private final Backoff backoff;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean stopRequested;
  private volatile boolean streaming;
  private volatile boolean running;
  private volatile long acknowledgedLsn;
  private SshTunnel tunnel;
  private StoreMaintenance storeMaintenance;

  public Worker(Settings settings, WorkerMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
    this.backoff = new Backoff(settings.reconnectInitialDelay(), settings.reconnectMaxDelay());
  }

  /** Asks the loop to finish its batch, acknowledge it and return. */
  public void requestStop() {
    stopRequested = true;
  }

  public boolean awaitStopped(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  public boolean isAlive() {
    return running;
  }

  public boolean isStreaming() {
    return streaming;
  }

  public long acknowledgedLsn() {
    return acknowledgedLsn;
  }

  @Override
  public void run() {
    running = true;
    try {
      LOG.info("worker starting: source {} slot {} publication {} destination {}", settings.source().redacted(),
          settings.slot(), settings.publication(), settings.destination().redacted());
      while (!stopRequested) {
        try {
          new Session().run();
        } catch (Exception e) {
          streaming = false;
          if (stopRequested) {
            break;
          }
          metrics.reconnects.inc();
          Duration delay = backoff.nextDelay();
          LOG.warn("replication interrupted ({}); reconnecting in {} ms", describe(e), delay.toMillis());
          sleep(delay);
        }
      }
    } finally {
      streaming = false;
      running = false;
      closeTunnel();
      if (storeMaintenance != null) {
        storeMaintenance.close();
      }
      LOG.info("worker stopped; acknowledged {}", LogSequenceNumber.valueOf(acknowledgedLsn));
      stopped.countDown();
    }
  }

  /**
   * Where the source is reached: directly, or through the SSH tunnel, opened on first use and kept
   * across sessions (it re-establishes itself after a drop; a session checks it before connecting).
   */
  private ConnectionSettings sourceRoute() throws SshTunnelException {
    if (settings.sourceTunnel() == null) {
      return settings.source();
    }
    if (tunnel == null) {
      tunnel = SshTunnel.open(settings.sourceTunnel(), settings.source());
      LOG.info("source reached through {}", tunnel.describe());
    } else {
      tunnel.ensureConnected();
    }
    return tunnel.route(settings.source());
  }

  private void closeTunnel() {
    if (tunnel != null) {
      tunnel.close();
      tunnel = null;
    }
  }

  private void sleep(Duration delay) {
    long deadline = System.nanoTime() + delay.toNanos();
    while (!stopRequested && System.nanoTime() < deadline) {
      try {
        Thread.sleep(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopRequested = true;
      }
    }
  }

  /** A message without secrets: connection errors are already classified by PgConnections. */
  private static String describe(Exception e) {
    String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
    return e.getClass().getSimpleName() + ": " + message;
  }

  /** One connected stretch: connections, stream, loop. Closed on any failure. */
  private final class Session {
    private Connection sourceSql;
    private Connection destination;
    private PGConnection replication;
    private PGReplicationStream stream;
    private ChangeSink sink;
    private PendingListCleaner cleaner;
    private ChangeAssembler assembler;

    private boolean inTransaction;
    private long lastCommitEndLsn;
    private long lastCommitMicros;
    private long ackable;
    private long reportedLsn;
    private long lastStatusNanos;
    private long lastLagQueryNanos;
    private long firstPendingNanos;

    void run() throws Exception {
      try {
        connect();
        backoff.reset();
        streaming = true;
        loop();
        finish();
      } finally {
        streaming = false;
        closeQuietly();
      }
    }

    private void connect() throws Exception {
      destination = PgConnections.open(settings.destination());
      // a destination that vanishes without closing the socket must not hang a write forever
      destination.setNetworkTimeout(Runnable::run, (int) DESTINATION_SOCKET_TIMEOUT.toMillis());
      ChangesTable.ensure(destination, settings.store().layout(), java.time.Instant.now());
      sink = new ChangeSink(destination, metrics::recorded);
      if (storeMaintenance == null) {
        storeMaintenance = new StoreMaintenance(settings.destination(), settings.store(), java.time.Clock.systemUTC(),
            metrics.registry()).start(StoreMaintenance.DEFAULT_INTERVAL);
      }
      cleaner = new PendingListCleaner(settings.destination(), PendingListCleaner.Schedule.DEFAULT,
          sink::lastCommitNanos);
      ConnectionSettings source = sourceRoute();
      sourceSql = PgConnections.open(source);
      int major = sourceSql.getMetaData().getDatabaseMajorVersion();
      requirePublication();
      if (ReplicationSlots.ensureLogicalSlot(sourceSql, settings.slot())) {
        LOG.info("created replication slot {}", settings.slot());
      }
      assembler = new ChangeAssembler(settings.source().database(), settings.ignoreColumns(),
          PrimaryKeys.fromCatalog(sourceSql), metrics.malformedContexts::inc);
      replication = PgConnections.openReplication(source);
      stream = replication.getReplicationAPI().replicationStream().logical()
          .withSlotName(settings.slot())
          .withSlotOption("proto_version", Integer.toString(PgOutputDecoder.protocolVersionFor(major)))
          .withSlotOption("publication_names", settings.publication())
          .withSlotOption("messages", true)
          .withStatusInterval(10, TimeUnit.SECONDS)
          .withAutomaticFlush(false)
          .start();
      LOG.info("streaming from slot {} (PostgreSQL {}, pgoutput proto_version {})", settings.slot(), major,
          PgOutputDecoder.protocolVersionFor(major));
    }

    private void requirePublication() throws SQLException {
      try (PreparedStatement ps = sourceSql.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
        ps.setString(1, settings.publication());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("publication \"" + settings.publication() + "\" does not exist in database \""
                + settings.source().database() + "\": create it (the operator does) before the worker starts");
          }
        }
      }
    }

    /** On stop, the transaction being read is finished first (for a few seconds at most) so its ack is clean. */
    private void loop() throws Exception {
      long idleSince = System.nanoTime();
      long stopDeadline = 0;
      while (!stopRequested || inTransaction && System.nanoTime() < stopDeadline) {
        if (stopRequested && stopDeadline == 0) {
          stopDeadline = System.nanoTime() + STOP_GRACE_NANOS;
        }
        ByteBuffer data = stream.readPending();
        long now = System.nanoTime();
        if (data != null) {
          handle(PgOutputDecoder.decode(data), stream.getLastReceiveLSN().asLong());
          idleSince = now;
          if (sink.pendingRows() >= settings.batchMaxRows()
              || sink.pendingRows() > 0 && now - firstPendingNanos >= settings.batchMaxDelay().toNanos()) {
            flush();
          }
        } else {
          if (sink.pendingRows() > 0) {
            flush(); // caught up with the source: write now for low latency
          }
          acknowledgeWhenIdle();
          Thread.sleep(now - idleSince > TimeUnit.SECONDS.toNanos(1) ? 10 : 1);
        }
        reportStatus(false);
        measureLag(now);
      }
    }

    private void handle(PgOutputMessage message, long lsn) {
      if (message instanceof PgOutputMessage.Begin) {
        inTransaction = true;
      } else if (message instanceof PgOutputMessage.Commit commit) {
        inTransaction = false;
        lastCommitEndLsn = commit.endLsn();
        lastCommitMicros = ChangeAssembler.toUnixMicros(commit.commitTimeMicros());
      }
      int before = sink.pendingRows();
      assembler.accept(message, lsn, System.currentTimeMillis() * 1000, sink::add);
      if (before == 0 && sink.pendingRows() > 0) {
        firstPendingNanos = System.nanoTime();
      }
      if (message instanceof PgOutputMessage.Commit && sink.pendingRows() == 0) {
        advance(lastCommitEndLsn); // a transaction with nothing to record (or already written)
      }
    }

    private void flush() throws SQLException {
      long started = System.nanoTime();
      sink.flush();
      metrics.batchDuration.observe((System.nanoTime() - started) / 1e9);
      advance(lastCommitEndLsn);
      if (!inTransaction && lastCommitMicros > 0) {
        metrics.lagSeconds.set(Math.max(0, System.currentTimeMillis() * 1000 - lastCommitMicros) / 1e6);
      }
    }

    /** Nothing of ours is pending: the source's position is safe to confirm, so idle slots keep moving. */
    private void acknowledgeWhenIdle() {
      if (!inTransaction && sink.pendingRows() == 0) {
        advance(Math.max(lastCommitEndLsn, stream.getLastReceiveLSN().asLong()));
        metrics.lagSeconds.set(0);
      }
    }

    private void advance(long lsn) {
      if (Long.compareUnsigned(lsn, ackable) > 0) {
        ackable = lsn;
      }
    }

    private void reportStatus(boolean force) throws SQLException {
      long now = System.nanoTime();
      if (ackable != reportedLsn && (force || now - lastStatusNanos >= STATUS_INTERVAL_NANOS)) {
        LogSequenceNumber lsn = LogSequenceNumber.valueOf(ackable);
        stream.setFlushedLSN(lsn);
        stream.setAppliedLSN(lsn);
        stream.forceUpdateStatus();
        reportedLsn = ackable;
        lastStatusNanos = now;
        acknowledgedLsn = ackable;
        metrics.acknowledgedLsn.set(ackable);
      }
    }

    private void measureLag(long now) throws SQLException {
      if (now - lastLagQueryNanos < LAG_QUERY_INTERVAL_NANOS) {
        return;
      }
      lastLagQueryNanos = now;
      try (PreparedStatement ps = sourceSql.prepareStatement(
          "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint")) {
        ps.setString(1, LogSequenceNumber.valueOf(ackable).asString());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          metrics.lagBytes.set(Math.max(0, rs.getLong(1)));
        }
      }
    }

    /** On stop: write what is pending, acknowledge it, and tell the server now. */
    private void finish() throws SQLException {
      if (sink.pendingRows() > 0) {
        flush();
      }
      acknowledgeWhenIdle();
      reportStatus(true);
    }

    private void closeQuietly() {
      if (sink != null) {
        sink.discard();
      }
      if (cleaner != null) {
        cleaner.close();
      }
      Connection replicationConnection = replication == null ? null : (Connection) replication;
      for (AutoCloseable c : new AutoCloseable[] {stream, replicationConnection, sourceSql, destination}) {
        if (c != null) {
          try {
            c.close();
          } catch (Exception ignored) {
            // the connection is already gone; nothing to do
          }
        }
      }
    }
  }
}
