package io.pgtrail.ssh;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.auth.pubkey.UserAuthPublicKeyFactory;
import org.apache.sshd.client.config.hosts.HostConfigEntryResolver;
import org.apache.sshd.client.future.ConnectFuture;
import org.apache.sshd.client.keyverifier.RejectAllServerKeyVerifier;
import org.apache.sshd.client.keyverifier.ServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.AttributeRepository;
import org.apache.sshd.common.Service;
import org.apache.sshd.common.ServiceFactory;
import org.apache.sshd.common.keyprovider.KeyIdentityProvider;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.core.CoreModuleProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's one Apache SSHD client: every tunnel opens its sessions on it (SSHD's model: one started client,
 * many sessions, one small pool of I/O threads). It starts with the first tunnel that {@link #acquire}s it and
 * stops when the last one {@link #release}s it, so a process without tunnels runs no SSH threads.
 *
 * <p>What differs per tunnel travels with each connection as {@link SessionSettings} in SSHD's connection
 * context and is applied to the new session before SSHD reads any of it: the jump host key check, the
 * authentication timeout, the heartbeat, the listener that notices a dropped session. The identity is added by
 * the tunnel to its session. Client-wide, for every tunnel alike: public-key authentication only, no
 * {@code ~/.ssh/config} or {@code ~/.ssh/id_*} lookups, and a session without settings has every host key refused.
 */
final class SharedSshClient {
  private static final Logger LOG = LoggerFactory.getLogger(SharedSshClient.class);
  private static final int NIO_WORKERS = 2;
  private static final AttributeRepository.AttributeKey<SessionSettings> SETTINGS = new AttributeRepository.AttributeKey<>();
  private static final Object LOCK = new Object();

  private static SshClient client;
  private static int users;

  private SharedSshClient() {
  }

  /**
   * What one tunnel's sessions need of their own.
   *
   * @param hostKeys decides on the jump host key during the key exchange
   * @param events told when the session closes
   * @param authTimeout for the handshake and authentication
   * @param heartbeat interval of keepalives; 3 unanswered ones drop the session
   */
  record SessionSettings(ServerKeyVerifier hostKeys, SessionListener events, Duration authTimeout, Duration heartbeat) {
    void applyTo(ClientSession session) {
      session.setServerKeyVerifier(hostKeys);
      session.addSessionListener(events);
      CoreModuleProperties.AUTH_TIMEOUT.set(session, authTimeout);
      CoreModuleProperties.HEARTBEAT_INTERVAL.set(session, heartbeat);
      CoreModuleProperties.HEARTBEAT_REPLY_WAIT.set(session, authTimeout);
      CoreModuleProperties.HEARTBEAT_NO_REPLY_MAX.set(session, 3);
    }
  }

  /** The started shared client; pair each call with one {@link #release}. */
  static SshClient acquire() {
    synchronized (LOCK) {
      if (client == null) {
        client = newClient();
      }
      users++;
      return client;
    }
  }

  /** Gives up one use of {@code used}; the last one stops the client and its threads. */
  static void release(SshClient used) {
    synchronized (LOCK) {
      if (used != client || users == 0) {
        return;
      }
      users--;
      if (users == 0) {
        client = null;
        try {
          used.stop();
        } catch (RuntimeException e) {
          LOG.debug("stopping the shared SSH client failed: {}", e.toString());
        }
      }
    }
  }

  /** The client while some tunnel uses it. */
  static Optional<SshClient> current() {
    synchronized (LOCK) {
      return Optional.ofNullable(client);
    }
  }

  /** Starts connecting {@code user@host:port} on {@code sshClient}; the session gets {@code settings} as it is created. */
  static ConnectFuture connect(SshClient sshClient, String user, String host, int port, SessionSettings settings)
      throws IOException {
    return sshClient.connect(user, host, port, AttributeRepository.ofKeyValuePair(SETTINGS, settings), null);
  }

  private static SshClient newClient() {
    SshClient sshClient = SshClient.setUpDefaultClient();
    sshClient.setKeyIdentityProvider(KeyIdentityProvider.EMPTY_KEYS_PROVIDER);
    sshClient.setHostConfigEntryResolver(HostConfigEntryResolver.EMPTY);
    sshClient.setUserAuthFactories(List.of(UserAuthPublicKeyFactory.INSTANCE));
    sshClient.setServerKeyVerifier(RejectAllServerKeyVerifier.INSTANCE);
    sshClient.setServiceFactories(settingUpSessionsFirst(SshClient.DEFAULT_SERVICE_FACTORIES));
    CoreModuleProperties.NIO_WORKERS.set(sshClient, NIO_WORKERS);
    sshClient.start();
    return sshClient;
  }

  /**
   * SSHD creates a session's services (authentication, then connection) in the session's constructor, and the
   * connection service reads the heartbeat settings right then, before any session listener hears of the
   * session: so the first service factory applies the tunnel's settings to the session before creating its
   * service.
   */
  private static List<ServiceFactory> settingUpSessionsFirst(List<? extends ServiceFactory> factories) {
    List<ServiceFactory> wrapped = new ArrayList<>(factories);
    ServiceFactory first = wrapped.get(0);
    wrapped.set(0, new ServiceFactory() {
      @Override
      public String getName() {
        return first.getName();
      }

      @Override
      public Service create(Session session) throws IOException {
        if (session instanceof ClientSession clientSession && clientSession.getConnectionContext() != null) {
          SessionSettings settings = clientSession.getConnectionContext().getAttribute(SETTINGS);
          if (settings != null) {
            settings.applyTo(clientSession);
          }
        }
        return first.create(session);
      }
    });
    return wrapped;
  }
}
