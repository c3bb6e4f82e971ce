package io.pgtrail.worker;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.slots.ReplicationSlots;
import io.pgtrail.retry.Backoff;
import io.pgtrail.ssh.SshTunnel;
import io.pgtrail.ssh.SshTunnelException;
import io.pgtrail.ssh.SshTunnelSettings;
import io.pgtrail.worker.pgoutput.PgOutputDecoder;
import io.pgtrail.worker.pgoutput.PgOutputMessage;
import io.pgtrail.worker.sink.ChangeSink;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.DeadLetterTable;
import io.pgtrail.worker.sink.FailureClass;
import io.pgtrail.worker.sink.GapRecords;
import io.pgtrail.worker.sink.KeysTable;
import io.pgtrail.worker.sink.PendingListCleaner;
import io.pgtrail.worker.sink.ProgressTable;
import io.pgtrail.worker.store.StoreMaintenance;
import io.pgtrail.worker.store.StoreSettings;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replication loop: stream pgoutput from the source slot, assemble changes, write them in batches
 * to the destination, and acknowledge to the slot only what the destination has committed (and recorded
 * in pgtrail_progress). A change the destination refuses is isolated by the sink; any other failure drops
 * the connections and the unwritten batch and reconnects with capped, jittered exponential backoff that
 * resets only after progress; the slot then sends again everything after the acknowledged position, and
 * the unique key absorbs the replay. A hole in the trail (slot missing or invalidated, a position jump, a
 * re-created publication) is written into the trail as a gap record (docs/worker.md).
 */
public final class Worker implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
  private static final long STATUS_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final Duration DESTINATION_SOCKET_TIMEOUT = Duration.ofMinutes(2);
  private static final long STOP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(3);
  private static final long STOP_CONFIRM_NANOS = TimeUnit.SECONDS.toNanos(2);
  private static final long LAG_QUERY_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** Everything the loop needs, resolved (passwords included) from the config. */
  public record Settings(
      ConnectionSettings source,
      ConnectionSettings destination,
      String slot,
      String publication,
      ColumnFilter ignoreColumns,
      int batchMaxRows,
      long batchMaxBytes,
      Duration batchMaxDelay,
      Duration reconnectInitialDelay,
      Duration reconnectMaxDelay,
      SshTunnelSettings sourceTunnel,
      Duration stallAfter,
      WorkerConfig.OnGap onGap,
      StoreSettings store) {

    /** The settings with the defaults of the config file for batch bytes, stall time, gaps and the store. */
    public Settings(ConnectionSettings source, ConnectionSettings destination, String slot, String publication,
        ColumnFilter ignoreColumns, int batchMaxRows, Duration batchMaxDelay, Duration reconnectInitialDelay,
        Duration reconnectMaxDelay, SshTunnelSettings sourceTunnel) {
      this(source, destination, slot, publication, ignoreColumns, batchMaxRows, WorkerConfig.Batch.DEFAULT_MAX_BYTES,
          batchMaxDelay, reconnectInitialDelay, reconnectMaxDelay, sourceTunnel, new WorkerConfig.Health(null).stallAfter(),
          WorkerConfig.OnGap.STOP, StoreSettings.DEFAULT);
    }

    public static Settings from(WorkerConfig config, java.util.Map<String, String> env) {
      return new Settings(config.sourceSettings(env), config.destinationSettings(env), config.slot(),
          config.publication(), ColumnFilter.parse(config.ignoreColumns()), config.batch().maxRowsOrDefault(),
          config.batch().maxBytesOrDefault(), config.batch().maxDelay(), config.reconnect().initialDelay(),
          config.reconnect().maxDelay(), config.sshTunnelSettings(), config.health().stallAfter(),
          config.onGapOrDefault(), config.store().toSettings());
    }

    public Settings withOnGap(WorkerConfig.OnGap value) {
      return new Settings(source, destination, slot, publication, ignoreColumns, batchMaxRows, batchMaxBytes,
          batchMaxDelay, reconnectInitialDelay, reconnectMaxDelay, sourceTunnel, stallAfter, value, store);
    }

    public Settings withBatch(int maxRows, long maxBytes) {
      return new Settings(source, destination, slot, publication, ignoreColumns, maxRows, maxBytes,
          batchMaxDelay, reconnectInitialDelay, reconnectMaxDelay, sourceTunnel, stallAfter, onGap, store);
    }

    public Settings withStallAfter(Duration value) {
      return new Settings(source, destination, slot, publication, ignoreColumns, batchMaxRows, batchMaxBytes,
          batchMaxDelay, reconnectInitialDelay, reconnectMaxDelay, sourceTunnel, value, onGap, store);
    }

    public Settings withStore(StoreSettings value) {
      return new Settings(source, destination, slot, publication, ignoreColumns, batchMaxRows, batchMaxBytes,
          batchMaxDelay, reconnectInitialDelay, reconnectMaxDelay, sourceTunnel, stallAfter, onGap, value);
    }
  }

  /** Exit code of {@code pgtrail worker} after it stopped on a gap (onGap: stop). */
  public static final int EXIT_GAP = 3;

  private static final long HEARTBEAT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long BATCH_REGROWTH_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** No data for this long with nothing pending: the worker has caught up with its slot. */
  private static final long CAUGHT_UP_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Settings settings;
  private final WorkerMetrics metrics;
  private final Backoff backoff;
  private final WorkerStatus status = new WorkerStatus();
  private final PrimaryKeys.Memory knownKeys = new PrimaryKeys.Memory();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean stopRequested;
  private volatile boolean streaming;
  private volatile boolean running;
  private volatile long acknowledgedLsn;
  private volatile int exitCode;
  /** After a timeout, batches are this many times smaller until progress: a batch too big for statement_timeout shrinks. */
  private int batchDivisor = 1;
  private long lastTimeoutNanos;
  private SshTunnel tunnel;
  private StoreMaintenance storeMaintenance;

  public Worker(Settings settings, WorkerMetrics metrics) {
    this.settings = settings;
    this.metrics = metrics;
    this.backoff = new Backoff(settings.reconnectInitialDelay(), settings.reconnectMaxDelay());
    metrics.watch(status, settings.stallAfter());
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

  /** Connected to both ends with the stream open (it may still fail to make progress: see {@link #isReady()}). */
  public boolean isStreaming() {
    return streaming;
  }

  /** What {@code /readyz} answers: streaming and acknowledging progress (or caught up). */
  public boolean isReady() {
    return status.ready(settings.stallAfter());
  }

  public String readiness() {
    return status.describe(settings.stallAfter());
  }

  public WorkerStatus status() {
    return status;
  }

  public long acknowledgedLsn() {
    return acknowledgedLsn;
  }

  /** 0 after a requested stop, {@link #EXIT_GAP} after stopping on a gap. */
  public int exitCode() {
    return exitCode;
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
        } catch (GapStop gap) {
          status.set(WorkerStatus.State.STOPPED, gap.stateReason);
          exitCode = EXIT_GAP;
          LOG.error("{}", gap.getMessage());
          break;
        } catch (Exception e) {
          streaming = false;
          if (stopRequested) {
            // the last batch or its acknowledgement failed while stopping: the slot sends it again at the next
            // start; said once, as every failure is
            Throwable cause = e instanceof DestinationFailure d ? d.getCause() : e;
            LOG.warn("stopping after a failure at position {}: {}", LogSequenceNumber.valueOf(acknowledgedLsn),
                FailureClass.describe(cause));
            break;
          }
          failed(e);
        }
      }
    } finally {
      streaming = false;
      if (status.state() != WorkerStatus.State.STOPPED) {
        status.set(WorkerStatus.State.STOPPED, "StopRequested");
      }
      writeStatusAside();
      running = false;
      closeTunnel();
      if (storeMaintenance != null) {
        storeMaintenance.close();
      }
      LOG.info("worker stopped; acknowledged {}", LogSequenceNumber.valueOf(acknowledgedLsn));
      stopped.countDown();
    }
  }

  /** One failure: counted, logged once with its class and position, then a backoff wait. */
  private void failed(Exception e) {
    Throwable cause = e instanceof DestinationFailure d ? d.getCause() : e;
    FailureClass failure = FailureClass.of(cause);
    String errorClass = e instanceof DestinationFailure ? failure.label()
        : failure.isTransient() ? "Source" + failure.label() : "SourceFailed";
    String description = FailureClass.describe(cause);
    status.failed(errorClass, description);
    status.set(failure.isTransient() ? WorkerStatus.State.RETRYING : WorkerStatus.State.STALLED, errorClass);
    metrics.reconnects.inc();
    metrics.errors.labelValues(errorClass).inc();
    metrics.lastErrorTime.labelValues(errorClass).set(System.currentTimeMillis() / 1000.0);
    metrics.consecutiveFailures.set(status.consecutiveFailures());
    if (failure == FailureClass.TIMEOUT && e instanceof DestinationFailure) {
      batchDivisor = Math.min(1024, batchDivisor * 2);
      lastTimeoutNanos = System.nanoTime();
    }
    Duration delay = backoff.nextDelay();
    LOG.warn("{} at position {}: {}; retrying in {} ms ({} failures in a row)", errorClass,
        LogSequenceNumber.valueOf(acknowledgedLsn), description, delay.toMillis(), status.consecutiveFailures());
    writeStatusAside();
    sleep(delay);
  }

  /** The state columns of pgtrail_progress over a connection of its own (the session's may be gone). */
  private void writeStatusAside() {
    try (Connection c = PgConnections.open(settings.destination())) {
      c.setNetworkTimeout(Runnable::run, 10_000);
      ProgressTable.heartbeat(c, settings.slot(), status.snapshot(settings.stallAfter()));
    } catch (Exception e) {
      LOG.debug("cannot write the worker state into the destination: {}", FailureClass.describe(e));
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

  /** Waits, writing the state into the destination every 10 s (the heartbeat of a worker that waits). */
  private void sleep(Duration delay) {
    long deadline = System.nanoTime() + delay.toNanos();
    long nextHeartbeat = System.nanoTime() + HEARTBEAT_INTERVAL_NANOS;
    while (!stopRequested && System.nanoTime() < deadline) {
      try {
        Thread.sleep(Math.min(50, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stopRequested = true;
      }
      if (System.nanoTime() > nextHeartbeat) {
        writeStatusAside();
        nextHeartbeat = System.nanoTime() + HEARTBEAT_INTERVAL_NANOS;
      }
    }
  }

  /** A failure of the destination write (as opposed to the source or the stream). */
  private static final class DestinationFailure extends Exception {
    DestinationFailure(Exception cause) {
      super(cause.getMessage(), cause);
    }
  }

  /** The worker recorded a gap and stops (onGap: stop). */
  private static final class GapStop extends Exception {
    final String stateReason;

    GapStop(String stateReason, String message) {
      super(message);
      this.stateReason = stateReason;
    }
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
    private OwnTablesFilter ownTables = OwnTablesFilter.none();
    private Long publicationOid;

    private boolean inTransaction;
    private long lastCommitEndLsn;
    private long lastCommitMicros;
    private long ackable;
    private long recordedInProgress;
    private long lastProgressWriteNanos = Long.MIN_VALUE / 2;
    private long reportedLsn;
    private long lastStatusNanos;
    private long lastLagQueryNanos;
    private long lastHeartbeatNanos;
    private long firstPendingNanos;

    void run() throws Exception {
      try {
        connect();
        streaming = true;
        if (status.consecutiveFailures() == 0) {
          status.progressed(); // a first start; after failures only progress makes the worker ready again
        }
        loop();
        finish();
      } finally {
        streaming = false;
        closeQuietly();
      }
    }

    private void connect() throws Exception {
      try {
        destination = PgConnections.open(settings.destination());
        // a destination that vanishes without closing the socket must not hang a write forever
        destination.setNetworkTimeout(Runnable::run, (int) DESTINATION_SOCKET_TIMEOUT.toMillis());
        ChangesTable.ensure(destination, settings.store().layout(), java.time.Instant.now());
        sink = new ChangeSink(destination, settings.slot(), metrics::recorded, this::rejected);
      } catch (SQLException | PgConnectException e) {
        throw new DestinationFailure(e);
      }
      if (storeMaintenance == null) {
        storeMaintenance = new StoreMaintenance(settings.destination(), settings.store(), java.time.Clock.systemUTC(),
            metrics.registry()).start(StoreMaintenance.DEFAULT_INTERVAL);
      }
      cleaner = new PendingListCleaner(settings.destination(), PendingListCleaner.Schedule.DEFAULT,
          sink::lastCommitNanos);
      ConnectionSettings source = sourceRoute();
      sourceSql = PgConnections.open(source);
      int major = sourceSql.getMetaData().getDatabaseMajorVersion();
      publicationOid = requirePublication();
      ownTables = OwnTablesFilter.detect(sourceSql, destination);
      checkForGaps();
      rememberDeclaredKeys(startsAt());
      assembler = new ChangeAssembler(settings.source().database(), settings.ignoreColumns(),
          PrimaryKeys.fromCatalog(sourceSql, knownKeys).tellingDeclarationsTo(sink::declared),
          TypeCatalog.fromCatalog(sourceSql),
          metrics.malformedContexts::inc, settings.publication(), this::tableNotPublished);
      replication = PgConnections.openReplication(source);
      PgValues.useCanonicalOutput((Connection) replication);
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

    /**
     * The keys the stream declared up to where this session's stream resumes: those this process read, and
     * those earlier processes kept in pgtrail_keys; later ones are read again from the stream, in order.
     */
    private void rememberDeclaredKeys(long resumesAt) throws DestinationFailure {
      knownKeys.forgetDeclaredAfter(resumesAt);
      try {
        knownKeys.restore(KeysTable.latestUpTo(destination, settings.slot(), resumesAt));
        destination.commit();
      } catch (SQLException e) {
        throw new DestinationFailure(e);
      }
    }

    private long requirePublication() throws SQLException {
      Long oid = publicationOid();
      if (oid == null) {
        throw new SQLException("publication \"" + settings.publication() + "\" does not exist in database \""
            + settings.source().database() + "\": create it (the operator does) before the worker starts", "42704");
      }
      return oid;
    }

    private Long publicationOid() throws SQLException {
      try (PreparedStatement ps = sourceSql.prepareStatement(
          "SELECT oid::bigint FROM pg_publication WHERE pubname = ?")) {
        ps.setString(1, settings.publication());
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? rs.getLong(1) : null;
        }
      }
    }

    /**
     * Compares what the destination says was acknowledged with the slot and the publication. The first
     * start of a slot's trail creates the slot; later ones never do silently: a missing or invalidated slot,
     * a slot that starts after the acknowledged position, a re-created publication each become a gap record.
     */
    private void checkForGaps() throws Exception {
      ProgressTable.Progress progress = ProgressTable.read(destination, settings.slot()).orElseThrow();
      Optional<ReplicationSlots.SlotStatus> slot = ReplicationSlots.read(sourceSql, settings.slot());
      Long acked = progress.acknowledgedLsn();
      if (acked == null) {
        if (ReplicationSlots.ensureLogicalSlot(sourceSql, settings.slot())) {
          LOG.info("created replication slot {}", settings.slot());
        }
        rememberPublication(progress);
        return;
      }
      boolean continueOnGap = settings.onGap() == WorkerConfig.OnGap.CONTINUE;
      String priorReason = progress.stateReason();
      if (slot.isEmpty() || "lost".equals(slot.get().walStatus())) {
        GapRecords.Reason reason = slot.isEmpty() ? GapRecords.Reason.SlotMissing : GapRecords.Reason.SlotInvalidated;
        if (!continueOnGap) {
          recordGap(reason, progress, acked, null, acked, null);
          throw new GapStop(reason.name(), "gap in the trail: replication slot " + settings.slot()
              + (slot.isEmpty() ? " is missing" : " was invalidated (wal_status lost)") + "; changes after position "
              + LogSequenceNumber.valueOf(acked) + " are lost. A gap record is in changes. Stopping (onGap: stop):"
              + " re-create the slot on purpose (the operator's setup or `pgtrail sql`"
              + (slot.isEmpty() ? "" : ", after dropping the invalidated one") + ") or set onGap: continue");
        }
        if (slot.isPresent()) {
          ReplicationSlots.dropIfExists(sourceSql, settings.slot());
        }
        ReplicationSlots.ensureLogicalSlot(sourceSql, settings.slot());
        long to = confirmedFlush(ReplicationSlots.read(sourceSql, settings.slot()).orElseThrow());
        recordGap(reason, progress, acked, to, to, to);
        LOG.warn("gap in the trail ({}): re-created replication slot {} (onGap: continue); changes between {} and {}"
            + " are lost, a gap record says so", reason, settings.slot(), LogSequenceNumber.valueOf(acked),
            LogSequenceNumber.valueOf(to));
        rememberPublication(progress);
        return;
      }
      long confirmed = confirmedFlush(slot.get());
      if (Long.compareUnsigned(confirmed, acked) > 0) {
        recordGap(GapRecords.Reason.PositionJump, progress, acked, confirmed, confirmed, confirmed);
        boolean recreatedOnPurpose = GapRecords.Reason.SlotMissing.name().equals(priorReason)
            || GapRecords.Reason.SlotInvalidated.name().equals(priorReason);
        String what = "replication slot " + settings.slot() + " starts at " + LogSequenceNumber.valueOf(confirmed)
            + ", after the acknowledged " + LogSequenceNumber.valueOf(acked) + "; a gap record is in changes";
        if (!continueOnGap && !recreatedOnPurpose) {
          throw new GapStop("GapRecorded", "gap in the trail: " + what + ". Stopping (onGap: stop); the next start"
              + " continues from the slot, the gap being recorded");
        }
        LOG.warn("gap in the trail: {}; continuing", what);
      }
      Long known = progress.publicationOid();
      if (known != null && known.longValue() != publicationOid) {
        long now = currentWalLsn();
        recordGap(GapRecords.Reason.PublicationRecreated, progress, acked, now, now, null);
        rememberPublication(progress);
        if (!continueOnGap) {
          throw new GapStop("GapRecorded", "gap in the trail: publication " + settings.publication()
              + " was dropped and re-created since position " + LogSequenceNumber.valueOf(acked) + "; changes made"
              + " while it was missing are not in the stream. A gap record is in changes. Stopping (onGap: stop);"
              + " the next start continues");
        }
        LOG.warn("gap in the trail: publication {} was re-created; continuing", settings.publication());
      } else {
        rememberPublication(progress);
      }
    }

    private void rememberPublication(ProgressTable.Progress progress) throws SQLException {
      if (progress.publicationOid() == null || progress.publicationOid().longValue() != publicationOid) {
        ProgressTable.rememberPublication(destination, settings.slot(), publicationOid);
        destination.commit();
      }
    }

    /** Where this session's stream starts: the slot's confirmed position. */
    private long startsAt() throws SQLException {
      return ReplicationSlots.read(sourceSql, settings.slot()).map(this::confirmedFlush).orElse(0L);
    }

    private long confirmedFlush(ReplicationSlots.SlotStatus slot) {
      return slot.confirmedFlushLsn() == null ? 0 : LogSequenceNumber.valueOf(slot.confirmedFlushLsn()).asLong();
    }

    private long currentWalLsn() throws SQLException {
      try (ResultSet rs = sourceSql.createStatement().executeQuery("SELECT pg_current_wal_lsn()::text")) {
        rs.next();
        return LogSequenceNumber.valueOf(rs.getString(1)).asLong();
      }
    }

    /**
     * The event trigger could not publish a table: its gap record goes into changes with its batch, and the
     * trail goes on whatever onGap says, as one table's gap must not stop the others (docs/worker.md, "Gaps").
     */
    private void tableNotPublished(Change gapRecord) {
      metrics.gapRecords.labelValues(GapRecords.Reason.TableNotPublished.name()).inc();
      LOG.warn("gap in the trail ({}) at position {}: the event trigger could not publish a new or altered table;"
          + " its changes are not recorded until the next setup run publishes it. A gap record is in changes: {}",
          GapRecords.Reason.TableNotPublished, LogSequenceNumber.valueOf(gapRecord.position()), gapRecord.context());
    }

    /** One gap record and the progress row, in one destination transaction. */
    private void recordGap(GapRecords.Reason reason, ProgressTable.Progress progress, long from, Long to, long position,
        Long moveAcknowledgedTo) throws SQLException {
      try {
        boolean written = GapRecords.write(destination, settings.source().database(), reason, from,
            progress.lastCommitAt(), to, position);
        if (written) {
          ProgressTable.gapRecorded(destination, settings.slot(), moveAcknowledgedTo, null);
        }
        destination.commit();
        if (written) {
          metrics.gapRecords.labelValues(reason.name()).inc();
          metrics.errors.labelValues("Gap").inc();
          metrics.lastErrorTime.labelValues("Gap").set(System.currentTimeMillis() / 1000.0);
        }
      } catch (SQLException e) {
        destination.rollback();
        throw e;
      }
    }

    /** On stop, the transaction being read is finished first (for a few seconds at most) so its ack is clean. */
    private void loop() throws Exception {
      long idleSince = System.nanoTime();
      long stopDeadline = 0;
      while (true) {
        if (stopRequested) {
          if (stopDeadline == 0) {
            stopDeadline = System.nanoTime() + STOP_GRACE_NANOS;
          }
          if (!inTransaction || System.nanoTime() >= stopDeadline) {
            break;
          }
        }
        PgOutputMessage message = readPending();
        long now = System.nanoTime();
        if (message != null) {
          handle(message, stream.getLastReceiveLSN().asLong());
          idleSince = now;
          if (sink.pendingRows() >= Math.max(1, settings.batchMaxRows() / batchDivisor)
              || sink.pendingBytes() >= Math.max(1024, settings.batchMaxBytes() / batchDivisor)
              || sink.pendingRows() > 0 && now - firstPendingNanos >= settings.batchMaxDelay().toNanos()) {
            flush();
          }
        } else {
          if (sink.pendingRows() > 0) {
            flush(); // caught up with the source: write now for low latency
          }
          acknowledgeWhenIdle();
          if (now - idleSince > CAUGHT_UP_AFTER_NANOS && !inTransaction) {
            status.progressed();
            backoff.reset();
          }
          Thread.sleep(now - idleSince > TimeUnit.SECONDS.toNanos(1) ? 10 : 1);
        }
        reportStatus(false);
        watchSource(now);
        heartbeat(now);
      }
    }

    /** The next message, decoded; its raw bytes are not held while it is handled (they may be 50 MB). */
    private PgOutputMessage readPending() throws SQLException {
      ByteBuffer data = stream.readPending();
      return data == null ? null : PgOutputDecoder.decode(data);
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
      assembler.accept(message, lsn, System.currentTimeMillis() * 1000, change -> {
        if (!ownTables.isOwn(change)) {
          sink.add(change);
        }
      });
      if (before == 0 && sink.pendingRows() > 0) {
        firstPendingNanos = System.nanoTime();
      }
      if (message instanceof PgOutputMessage.Commit && sink.pendingRows() == 0) {
        advance(lastCommitEndLsn); // a transaction with nothing to record (or already written)
      }
    }

    private void flush() throws DestinationFailure {
      long started = System.nanoTime();
      status.behind(true); // a write that hangs is a stall: readiness must not wait for the next lag query
      // the position goes into pgtrail_progress with a batch at the pace the slot is confirmed (once a
      // second), not with every small batch: the slot is never confirmed beyond it (reportStatus)
      boolean recordProgress = started - lastProgressWriteNanos >= STATUS_INTERVAL_NANOS;
      try {
        sink.flush(lastCommitEndLsn, lastCommitMicros, recordProgress);
      } catch (SQLException e) {
        throw new DestinationFailure(e);
      }
      metrics.batchDuration.observe((System.nanoTime() - started) / 1e9);
      status.wrote();
      if (recordProgress) {
        lastProgressWriteNanos = started;
        if (Long.compareUnsigned(lastCommitEndLsn, recordedInProgress) > 0) {
          recordedInProgress = lastCommitEndLsn;
        }
      }
      advance(lastCommitEndLsn);
      if (!inTransaction && lastCommitMicros > 0) {
        metrics.lagSeconds.set(Math.max(0, System.currentTimeMillis() * 1000 - lastCommitMicros) / 1e6);
      }
    }

    /** One line per change the destination refused: its position and where it went, never its values. */
    private void rejected(Change change, String sqlState, boolean setAside) {
      if (setAside) {
        metrics.setAsideChanges.inc();
      } else {
        metrics.fallbackChanges.inc();
      }
      metrics.errors.labelValues(FailureClass.ROW_REJECTED.label()).inc();
      status.rejected(FailureClass.ROW_REJECTED.label(), "SQLSTATE " + sqlState + " for a " + change.operation()
          + " of " + change.schema() + "." + change.table() + " at " + LogSequenceNumber.valueOf(change.position()));
      metrics.lastErrorTime.labelValues(FailureClass.ROW_REJECTED.label()).set(System.currentTimeMillis() / 1000.0);
      LOG.warn("{} at position {}: the destination refused a {} of {}.{} (SQLSTATE {}); {}",
          FailureClass.ROW_REJECTED.label(), LogSequenceNumber.valueOf(change.position()), change.operation(),
          change.schema(), change.table(), sqlState,
          setAside ? "set aside in " + DeadLetterTable.NAME : "recorded in its fallback form");
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

    /**
     * Confirms to the slot what the destination holds. The position goes into pgtrail_progress first (with
     * its batch, or here when it moved without one), so the slot never gets ahead of what the trail says
     * was acknowledged: a slot found later beyond that position is a gap.
     */
    private void reportStatus(boolean force) throws SQLException, DestinationFailure {
      long now = System.nanoTime();
      if (ackable == reportedLsn || !force && now - lastStatusNanos < STATUS_INTERVAL_NANOS) {
        return;
      }
      if (Long.compareUnsigned(ackable, recordedInProgress) > 0 && sink.pendingRows() == 0) {
        try {
          sink.acknowledge(ackable, lastCommitMicros); // with the key declarations of DDL-only transactions
        } catch (SQLException e) {
          throw new DestinationFailure(e);
        }
        recordedInProgress = ackable;
        lastProgressWriteNanos = now;
      }
      long confirm = Long.compareUnsigned(ackable, recordedInProgress) > 0 ? recordedInProgress : ackable;
      if (confirm == reportedLsn) {
        return;
      }
      LogSequenceNumber lsn = LogSequenceNumber.valueOf(confirm);
      stream.setFlushedLSN(lsn);
      stream.setAppliedLSN(lsn);
      stream.forceUpdateStatus();
      reportedLsn = confirm;
      lastStatusNanos = now;
      acknowledgedLsn = confirm;
      metrics.acknowledgedLsn.set(confirm);
      status.progressed();
      backoff.reset();
      if (batchDivisor > 1 && now - lastTimeoutNanos > BATCH_REGROWTH_NANOS) {
        batchDivisor /= 2; // batches grow back slowly: one that timed out should not be tried again at once
        lastTimeoutNanos = now;
      }
      metrics.consecutiveFailures.set(0);
    }

    /** Every few seconds: how far behind the source the worker is, and whether its publication is still the same. */
    private void watchSource(long now) throws Exception {
      if (now - lastLagQueryNanos < LAG_QUERY_INTERVAL_NANOS) {
        return;
      }
      lastLagQueryNanos = now;
      try (PreparedStatement ps = sourceSql.prepareStatement(
          "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), ?::pg_lsn)::bigint")) {
        ps.setString(1, LogSequenceNumber.valueOf(ackable).asString());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          long lag = Math.max(0, rs.getLong(1));
          metrics.lagBytes.set(lag);
          status.behind(lag > 0);
        }
      }
      Long oid = publicationOid();
      if (oid == null || oid.longValue() != publicationOid) {
        // PostgreSQL 18 skips a missing publication's changes instead of failing: look again from the start
        throw new SQLException("publication \"" + settings.publication() + "\" was "
            + (oid == null ? "dropped" : "dropped and re-created") + " while streaming", "42704");
      }
    }

    /** The progress row's state columns, at least every 10 s, between batches. */
    private void heartbeat(long now) throws DestinationFailure {
      if (now - lastHeartbeatNanos < HEARTBEAT_INTERVAL_NANOS || sink.pendingRows() > 0) {
        return;
      }
      lastHeartbeatNanos = now;
      try {
        ProgressTable.heartbeat(destination, settings.slot(), status.snapshot(settings.stallAfter()));
        destination.commit();
      } catch (SQLException e) {
        throw new DestinationFailure(e);
      }
    }

    /** On stop: write what is pending, acknowledge it, and tell the server now. */
    private void finish() throws SQLException, DestinationFailure {
      LOG.info("stopping: {} changes pending, {} a transaction, last commit {}, acknowledging {}", sink.pendingRows(),
          inTransaction ? "inside" : "not inside", LogSequenceNumber.valueOf(lastCommitEndLsn),
          LogSequenceNumber.valueOf(ackable));
      if (sink.pendingRows() > 0) {
        flush(); // inside a transaction only when the stop grace ran out: the slot sends all of it again
      }
      acknowledgeWhenIdle();
      reportStatus(true);
      awaitSlotConfirmed();
    }

    /**
     * A clean stop leaves the slot where the destination is: the last status update travels on the stream just
     * before it closes, so it is read back from the slot (sent again while it is not there, for a moment at most).
     */
    private void awaitSlotConfirmed() throws SQLException {
      long deadline = System.nanoTime() + STOP_CONFIRM_NANOS;
      while (reportedLsn != 0 && Long.compareUnsigned(startsAt(), reportedLsn) < 0) {
        if (System.nanoTime() > deadline) {
          LOG.warn("the slot did not confirm {} before the stop: the next start sends the changes after it again"
              + " (the unique key absorbs them)", LogSequenceNumber.valueOf(reportedLsn));
          return;
        }
        stream.forceUpdateStatus();
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }

    /**
     * Each step on its own: one that fails (a sink left inconsistent by the failure that ends the session)
     * must not leave the replication connection open, or the slot stays active for a walsender nobody reads
     * and every reconnect is refused.
     */
    private void closeQuietly() {
      Connection replicationConnection = replication == null ? null : (Connection) replication;
      AutoCloseable discardSink = sink == null ? null : sink::discard;
      AutoCloseable stopCleaner = cleaner == null ? null : cleaner::close;
      for (AutoCloseable c : new AutoCloseable[] {discardSink, stopCleaner, stream, replicationConnection, sourceSql,
          destination}) {
        if (c != null) {
          try {
            c.close();
          } catch (Exception ignored) {
            // the connection is already gone, or the session's state with it; nothing to do
          }
        }
      }
    }
  }
}
