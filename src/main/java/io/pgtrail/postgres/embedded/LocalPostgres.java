package io.pgtrail.postgres.embedded;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.SslMode;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipFile;

/**
 * A real PostgreSQL server run from the zonky binaries jars: for the demo, the benchmark and the tests.
 * Listens on 127.0.0.1 only. The superuser {@code postgres} connects without a password; every other
 * role must use its password (scram-sha-256), so authentication failures can be exercised.
 */
public final class LocalPostgres implements AutoCloseable {
  public static final String SUPERUSER = "postgres";

  private final Builder config;
  private final Path dataDirectory;
  private final int port;
  private EmbeddedPostgres server;

  private LocalPostgres(Builder config, Path dataDirectory, int port) {
    this.config = config;
    this.dataDirectory = dataDirectory;
    this.port = port;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts the server described by the builder. */
  private LocalPostgres startServer() throws IOException {
    Path hba = dataDirectory.resolveSibling(dataDirectory.getFileName() + "-pg_hba.conf");
    Files.writeString(hba, String.join("\n",
        "local all postgres trust",
        "local all all scram-sha-256",
        "local replication all trust",
        "host all postgres 127.0.0.1/32 trust",
        "host replication postgres 127.0.0.1/32 trust",
        "host all all 127.0.0.1/32 scram-sha-256",
        "host replication all 127.0.0.1/32 scram-sha-256",
        ""));
    EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
        .setPort(port)
        .setDataDirectory(dataDirectory)
        .setCleanDataDirectory(false)
        .setPGStartupWait(java.time.Duration.ofSeconds(60))
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("hba_file", hba.toString())
        .setServerConfig("password_encryption", "scram-sha-256")
        .setServerConfig("wal_level", config.walLevel)
        .setServerConfig("max_replication_slots", Integer.toString(config.maxReplicationSlots))
        .setServerConfig("max_wal_senders", Integer.toString(config.maxWalSenders))
        .setServerConfig("max_connections", Integer.toString(config.maxConnections))
        .setServerConfig("fsync", config.fsync ? "on" : "off")
        // zonky defaults to asynchronous commit, which hides fresh commits from logical decoding for up to a second
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("full_page_writes", config.fsync ? "on" : "off")
        .setServerConfig("shared_buffers", "128MB")
        .setServerConfig("wal_sender_timeout", "30s")
        .setServerConfig("max_wal_size", "1GB");
    config.serverConfig.forEach(b::setServerConfig);
    if (config.binariesJar != null) {
      b.setPgBinaryResolver(jarResolver(config.binariesJar));
    }
    server = b.start();
    return this;
  }

  private static PgBinaryResolver jarResolver(Path jar) {
    return (system, machineHardware) -> {
      ZipFile zip = new ZipFile(jar.toFile());
      var entry = zip.stream()
          .filter(e -> e.getName().endsWith(".txz"))
          .findFirst()
          .orElseThrow(() -> new IOException("no PostgreSQL archive inside " + jar));
      InputStream in = zip.getInputStream(entry);
      return new java.io.FilterInputStream(in) {
        @Override
        public void close() throws IOException {
          super.close();
          zip.close();
        }
      };
    };
  }

  public int port() {
    return port;
  }

  public Path dataDirectory() {
    return dataDirectory;
  }

  /** Connection settings for {@code database} as the superuser. */
  public ConnectionSettings superuser(String database) {
    return ConnectionSettings.builder()
        .host("127.0.0.1").port(port).database(database).user(SUPERUSER)
        .sslMode(SslMode.DISABLE).connectTimeoutSeconds(5).build();
  }

  /** Connection settings for {@code database} as {@code user} with {@code password}. */
  public ConnectionSettings as(String database, String user, String password) {
    return superuser(database).withUser(user, password);
  }

  /** Creates a database (owned by {@code postgres}) and returns superuser settings for it. */
  public ConnectionSettings createDatabase(String name) {
    execute("postgres", "CREATE DATABASE " + Identifiers.quote(name));
    return superuser(name);
  }

  /** Runs statements as the superuser in {@code database}. */
  public void execute(String database, String... statements) {
    try (Connection c = java.sql.DriverManager.getConnection(
            superuser(database).jdbcUrl(), superuser(database).jdbcProperties());
        Statement s = c.createStatement()) {
      for (String sql : statements) {
        s.execute(sql);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("statement failed on local PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** Stops the server, keeping its data directory. */
  public void stop() throws IOException {
    if (server != null) {
      server.close();
      server = null;
    }
  }

  /** Starts a stopped server again on the same port and data. */
  public void restart() throws IOException {
    stop();
    startServer();
  }

  @Override
  public void close() throws IOException {
    stop();
    if (config.deleteDataOnClose) {
      deleteRecursively(dataDirectory);
      Files.deleteIfExists(dataDirectory.resolveSibling(dataDirectory.getFileName() + "-pg_hba.conf"));
    }
  }

  /** Deletes a file or a directory with everything in it; nothing when it does not exist. */
  public static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }

  /** A free TCP port on loopback, chosen by the kernel. */
  public static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static final class Builder {
    private Path binariesJar;
    private String walLevel = "logical";
    private int maxReplicationSlots = 20;
    private int maxWalSenders = 20;
    private int maxConnections = 300;
    private boolean fsync = false;
    private boolean deleteDataOnClose = true;
    private Path dataDirectory;
    private int port;
    private final Map<String, String> serverConfig = new LinkedHashMap<>();

    /** A zonky binaries jar to run instead of the one on the classpath (another PostgreSQL major). */
    public Builder binariesJar(Path jar) { this.binariesJar = jar; return this; }
    public Builder walLevel(String level) { this.walLevel = level; return this; }
    public Builder maxReplicationSlots(int n) { this.maxReplicationSlots = n; return this; }
    public Builder maxWalSenders(int n) { this.maxWalSenders = n; return this; }
    public Builder maxConnections(int n) { this.maxConnections = n; return this; }
    /** Durable commits (off by default: tests and the demo do not need them). */
    public Builder fsync(boolean on) { this.fsync = on; return this; }
    public Builder deleteDataOnClose(boolean delete) { this.deleteDataOnClose = delete; return this; }
    public Builder dataDirectory(Path dir) { this.dataDirectory = dir; return this; }
    public Builder port(int port) { this.port = port; return this; }
    public Builder serverConfig(String key, String value) { serverConfig.put(key, value); return this; }

    public LocalPostgres start() throws IOException {
      Path dir = dataDirectory != null ? dataDirectory : Files.createTempDirectory("pgtrail-pg-");
      Files.createDirectories(dir);
      int p = port != 0 ? port : freePort();
      return new LocalPostgres(this, dir, p).startServer();
    }
  }
}
