package io.pgtrail.ssh;

import java.io.Closeable;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Open tunnels by a caller-chosen id (the operator uses {@code <namespace>/<name>} of a source), so
 * that repeated reconciles share one SSH session instead of opening one each time.
 *
 * <p>{@link #acquire} returns the tunnel already open for the id when its settings and target are
 * unchanged (reconnecting it first if its session is down), and otherwise closes the old tunnel and
 * opens a new one. {@link #release} closes and forgets one; {@link #close} all. Thread-safe; calls
 * for different ids do not wait for each other.
 */
public final class SshTunnels implements Closeable {
  private record Entry(SshTunnelSettings settings, String targetHost, int targetPort, SshTunnel tunnel) {
    boolean serves(SshTunnelSettings wantedSettings, String wantedHost, int wantedPort) {
      return settings.equals(wantedSettings) && targetHost.equals(wantedHost) && targetPort == wantedPort;
    }
  }

  private final SshTunnel.Timeouts timeouts;
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private final Map<String, Entry> open = new ConcurrentHashMap<>();
  private volatile boolean closed;

  public SshTunnels() {
    this(SshTunnel.Timeouts.DEFAULT);
  }

  public SshTunnels(SshTunnel.Timeouts timeouts) {
    this.timeouts = Objects.requireNonNull(timeouts);
  }

  /**
   * The connected tunnel for {@code id} to {@code targetHost:targetPort} with these settings.
   *
   * @throws SshTunnelException when it cannot be opened or reconnected (the tunnel stays registered
   *     after a failed reconnect and keeps retrying in the background; a failed open registers nothing)
   */
  public SshTunnel acquire(String id, SshTunnelSettings settings, String targetHost, int targetPort)
      throws SshTunnelException {
    synchronized (locks.computeIfAbsent(id, k -> new Object())) {
      if (closed) {
        throw new IllegalStateException("the SSH tunnel registry is closed");
      }
      Entry entry = open.get(id);
      if (entry != null && entry.serves(settings, targetHost, targetPort)) {
        entry.tunnel().ensureConnected();
        return entry.tunnel();
      }
      if (entry != null) {
        open.remove(id);
        entry.tunnel().close();
      }
      SshTunnel tunnel = SshTunnel.open(settings, targetHost, targetPort, timeouts);
      open.put(id, new Entry(settings, targetHost, targetPort, tunnel));
      return tunnel;
    }
  }

  /** The tunnel registered for {@code id}, connected or not. */
  public Optional<SshTunnel> get(String id) {
    return Optional.ofNullable(open.get(id)).map(Entry::tunnel);
  }

  /** Closes and forgets the tunnel for {@code id}, if any (a source deleted or no longer tunnelled). */
  public void release(String id) {
    synchronized (locks.computeIfAbsent(id, k -> new Object())) {
      Entry entry = open.remove(id);
      if (entry != null) {
        entry.tunnel().close();
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (String id : open.keySet()) {
      release(id);
    }
  }
}
