package io.pgtrail.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP relay on 127.0.0.1 that can {@link #freeze()}: it then holds every byte without closing
 * anything, like a network path that silently stops delivering (no RST, no FIN). Only timeouts and
 * keepalives notice such a link.
 */
public final class TestTcpProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final String targetHost;
  private volatile int targetPort;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean frozen;
  private volatile boolean closed;

  private TestTcpProxy(String targetHost, int targetPort) throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  public static TestTcpProxy start(String targetHost, int targetPort) {
    try {
      TestTcpProxy proxy = new TestTcpProxy(targetHost, targetPort);
      daemon("test-proxy-accept", proxy::acceptLoop);
      return proxy;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return listener.getLocalPort();
  }

  public void freeze() {
    frozen = true;
  }

  public void thaw() {
    frozen = false;
  }

  /**
   * Sends new connections to another port, like a service address that now points at a promoted standby.
   * Open connections stay as they are (a stopped server closes its own).
   */
  public void retarget(int port) {
    targetPort = port;
  }

  @Override
  public void close() {
    closed = true;
    closeQuietly(listener);
    sockets.forEach(TestTcpProxy::closeQuietly);
  }

  private void acceptLoop() {
    while (!closed) {
      try {
        Socket downstream = listener.accept();
        Socket upstream = connectUpstream(downstream);
        if (upstream == null) {
          continue;
        }
        sockets.add(downstream);
        sockets.add(upstream);
        daemon("test-proxy-up", () -> relay(downstream, upstream));
        daemon("test-proxy-down", () -> relay(upstream, downstream));
      } catch (IOException e) {
        if (!closed) {
          sleep(20);
        }
      }
    }
  }

  /** The target, or null when it refuses: the client then sees its connection closed, as with a dead server. */
  private Socket connectUpstream(Socket downstream) {
    try {
      return new Socket(targetHost, targetPort);
    } catch (IOException refused) {
      closeQuietly(downstream);
      return null;
    }
  }

  private void relay(Socket from, Socket to) {
    byte[] buffer = new byte[16384];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        while (frozen && !closed) {
          sleep(20);
        }
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side went away: close both below
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void daemon(String name, Runnable body) {
    Thread thread = new Thread(body, name);
    thread.setDaemon(true);
    thread.start();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception ignored) {
      // already closed
    }
  }
}
