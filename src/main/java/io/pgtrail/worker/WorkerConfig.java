package io.pgtrail.worker;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.Passwords;
import io.pgtrail.ssh.HostKeyPolicy;
import io.pgtrail.ssh.SshTunnelSettings;
import io.pgtrail.worker.store.StoreSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The worker's YAML configuration (see README, "Worker"). Passwords never come from the file: each
 * endpoint takes {@code passwordFile}, else its own environment variable, else {@code PGPASSWORD}.
 */
public record WorkerConfig(
    Endpoint source,
    String slot,
    String publication,
    Endpoint destination,
    List<String> ignoreColumns,
    Metrics metrics,
    Batch batch,
    Reconnect reconnect,
    Tunnel sshTunnel,
    Health health,
    String onGap,
    Store store) {

  public static final String SOURCE_PASSWORD_ENV = "PGTRAIL_SOURCE_PASSWORD";
  public static final String DESTINATION_PASSWORD_ENV = "PGTRAIL_DESTINATION_PASSWORD";
  public static final String GENERIC_PASSWORD_ENV = "PGPASSWORD";

  /** A PostgreSQL endpoint: a libpq URL without password, and where its password lives. */
  public record Endpoint(String url, String passwordFile) {}

  /** {@code port: 0} disables the HTTP endpoint. */
  public record Metrics(Integer port) {
    public int portOrDefault() {
      return port == null ? 9090 : port;
    }
  }

  /** What the worker does after writing a gap record into the trail: stop (the default) or continue. */
  public enum OnGap { STOP, CONTINUE;

    static OnGap parse(String value) {
      if (value == null) {
        return STOP;
      }
      return switch (value) {
        case "stop" -> STOP;
        case "continue" -> CONTINUE;
        default -> throw new IllegalArgumentException("onGap must be stop or continue, got '" + value + "'");
      };
    }
  }

  /**
   * Destination write batching: rows per COPY, bytes per COPY (the encoded rows; a batch is cut at
   * whichever comes first, so memory is bounded by size, not only by count) and the longest a row waits.
   */
  public record Batch(Integer maxRows, Long maxBytes, Long maxDelayMs) {
    public static final long DEFAULT_MAX_BYTES = 16L * 1024 * 1024;

    public int maxRowsOrDefault() {
      return maxRows == null ? 5000 : maxRows;
    }

    public long maxBytesOrDefault() {
      return maxBytes == null ? DEFAULT_MAX_BYTES : maxBytes;
    }

    public Duration maxDelay() {
      return Duration.ofMillis(maxDelayMs == null ? 200 : maxDelayMs);
    }
  }

  /**
   * An SSH jump host in front of the source: every source connection (catalog and replication) goes
   * through a local port forwarded by it. Key material comes from files (a mounted Secret).
   */
  public record Tunnel(String host, Integer port, String user, String privateKeyFile, String knownHostsFile,
      String hostKeyFingerprint, String hostKeyPolicy) {

    /** Reads the key files and validates everything; problems name the key under {@code sshTunnel}. */
    public SshTunnelSettings toSettings() {
      if (privateKeyFile == null) {
        throw new IllegalArgumentException("sshTunnel.privateKeyFile is required (the key authorized on the jump host)");
      }
      try {
        return new SshTunnelSettings(host, port == null ? 0 : port, user, readFile("privateKeyFile", privateKeyFile),
            knownHostsFile == null ? null : readFile("knownHostsFile", knownHostsFile), hostKeyFingerprint,
            hostKeyPolicy == null ? null : HostKeyPolicy.parse(hostKeyPolicy));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("sshTunnel: " + e.getMessage());
      }
    }

    private static String readFile(String key, String file) {
      try {
        return Files.readString(Path.of(file));
      } catch (IOException e) {
        throw new IllegalArgumentException(key + " " + file + " cannot be read");
      }
    }
  }

  /** {@code /readyz} fails when the acknowledged position has not moved for {@code stallAfterMs} while the slot has data. */
  public record Health(Long stallAfterMs) {
    public Duration stallAfter() {
      return Duration.ofMillis(stallAfterMs == null ? 60_000 : stallAfterMs);
    }
  }

  public Health health() {
    return health == null ? new Health(null) : health;
  }

  public OnGap onGapOrDefault() {
    return OnGap.parse(onGap);
  }

  /** The source's SSH tunnel settings, or null when the source is reached directly. */
  public SshTunnelSettings sshTunnelSettings() {
    return sshTunnel == null ? null : sshTunnel.toSettings();
  }

  /** Capped exponential backoff after losing the source or the destination. */
  public record Reconnect(Long initialDelayMs, Long maxDelayMs) {
    public Duration initialDelay() {
      return Duration.ofMillis(initialDelayMs == null ? 500 : initialDelayMs);
    }

    public Duration maxDelay() {
      return Duration.ofMillis(maxDelayMs == null ? 30_000 : maxDelayMs);
    }
  }

  /**
   * The audit store (docs/store.md): {@code partitionBy} daily, weekly (default), monthly or none for a new
   * changes table, partitions created {@code partitionsAhead} periods ahead, {@code retention} such as 90d
   * (default: none, kept forever), {@code retentionMode} drop (default) or detach.
   */
  public record Store(String partitionBy, Integer partitionsAhead, String retention, String retentionMode) {
    public StoreSettings toSettings() {
      return StoreSettings.parse(partitionBy, partitionsAhead, retention, retentionMode);
    }
  }

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

  /** Reads and validates the file; every problem becomes an {@link IllegalArgumentException} naming the key. */
  public static WorkerConfig load(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage());
    }
    return parse(text);
  }

  public static WorkerConfig parse(String yaml) {
    if (yaml == null || yaml.isBlank()) {
      throw new IllegalArgumentException("worker config is empty");
    }
    WorkerConfig config;
    try {
      config = YAML.readValue(yaml, WorkerConfig.class);
    } catch (UnrecognizedPropertyException e) {
      String where = path(e, true);
      throw new IllegalArgumentException("unknown key '" + e.getPropertyName() + "'"
          + (where.isEmpty() ? "" : " under '" + where + "'") + " in worker config (known keys: "
          + e.getKnownPropertyIds().stream().map(Object::toString).sorted().collect(Collectors.joining(", "))
          + ")");
    } catch (JsonMappingException e) {
      throw new IllegalArgumentException("invalid worker config at '" + path(e, false) + "': " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("worker config is not valid YAML: " + yamlProblem(e));
    }
    if (config == null) {
      throw new IllegalArgumentException("worker config is empty");
    }
    return config.validated();
  }

  /** The parser's complaint on one line, with the line and column it points at. */
  private static String yamlProblem(IOException e) {
    if (e instanceof com.fasterxml.jackson.core.JsonProcessingException p) {
      String problem = p.getOriginalMessage() == null ? "" : p.getOriginalMessage().strip().split("\\R", 2)[0];
      var at = p.getLocation();
      return problem + (at == null || at.getLineNr() < 1 ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")");
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().strip().split("\\R", 2)[0];
  }

  /** The dotted key path of a mapping problem, e.g. {@code source.url}; {@code dropLast} omits the offending key. */
  private static String path(JsonMappingException e, boolean dropLast) {
    List<JsonMappingException.Reference> refs = e.getPath();
    int n = dropLast && !refs.isEmpty() ? refs.size() - 1 : refs.size();
    return refs.subList(0, n).stream()
        .map(r -> r.getFieldName() != null ? r.getFieldName() : "[" + r.getIndex() + "]")
        .collect(Collectors.joining("."));
  }

  private WorkerConfig validated() {
    requireEndpoint("source", source);
    requireEndpoint("destination", destination);
    if (slot == null) {
      throw new IllegalArgumentException("worker config needs 'slot' (the replication slot name)");
    }
    if (publication == null) {
      throw new IllegalArgumentException("worker config needs 'publication' (the publication name)");
    }
    Identifiers.requireReplicationName("slot", slot);
    Identifiers.requireReplicationName("publication", publication);
    ColumnFilter.parse(ignoreColumns());
    sshTunnelSettings();
    store().toSettings();
    if (metrics().portOrDefault() < 0 || metrics().portOrDefault() > 65535) {
      throw new IllegalArgumentException("metrics.port must be between 0 and 65535, got " + metrics().port());
    }
    if (batch().maxRowsOrDefault() < 1) {
      throw new IllegalArgumentException("batch.maxRows must be at least 1");
    }
    if (batch().maxBytesOrDefault() < 1024) {
      throw new IllegalArgumentException("batch.maxBytes must be at least 1024");
    }
    if (health().stallAfter().toMillis() < 1000) {
      throw new IllegalArgumentException("health.stallAfterMs must be at least 1000");
    }
    onGapOrDefault();
    if (batch().maxDelay().isNegative()) {
      throw new IllegalArgumentException("batch.maxDelayMs must not be negative");
    }
    if (reconnect().initialDelay().toMillis() < 1 || reconnect().maxDelay().compareTo(reconnect().initialDelay()) < 0) {
      throw new IllegalArgumentException("reconnect.initialDelayMs must be at least 1 and at most reconnect.maxDelayMs");
    }
    return this;
  }

  private static void requireEndpoint(String key, Endpoint endpoint) {
    if (endpoint == null || endpoint.url() == null) {
      throw new IllegalArgumentException("worker config needs '" + key + ".url' (postgresql://USER@HOST:PORT/DB)");
    }
    ConnectionSettings parsed;
    try {
      parsed = ConnectionSettings.parse(endpoint.url());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key + ".url: " + e.getMessage());
    }
    if (parsed.hasPassword()) {
      throw new IllegalArgumentException(key + ".url contains a password: passwords never go into the config;"
          + " use " + key + ".passwordFile or the " + envFor(key) + " environment variable");
    }
  }

  private static String envFor(String key) {
    return key.equals("source") ? SOURCE_PASSWORD_ENV : DESTINATION_PASSWORD_ENV;
  }

  @Override
  public List<String> ignoreColumns() {
    return ignoreColumns == null ? List.of() : ignoreColumns;
  }

  @Override
  public Metrics metrics() {
    return metrics == null ? new Metrics(null) : metrics;
  }

  @Override
  public Batch batch() {
    return batch == null ? new Batch(null, null, null) : batch;
  }

  public Store store() {
    return store == null ? new Store(null, null, null, null) : store;
  }

  public Reconnect reconnect() {
    return reconnect == null ? new Reconnect(null, null) : reconnect;
  }

  public ConnectionSettings sourceSettings(Map<String, String> env) {
    return settings("source", source, SOURCE_PASSWORD_ENV, env).withApplicationName("pgtrail-worker");
  }

  public ConnectionSettings destinationSettings(Map<String, String> env) {
    return settings("destination", destination, DESTINATION_PASSWORD_ENV, env).withApplicationName("pgtrail-worker");
  }

  private static ConnectionSettings settings(String key, Endpoint endpoint, String envName, Map<String, String> env) {
    ConnectionSettings parsed = ConnectionSettings.parse(endpoint.url());
    try {
      if (endpoint.passwordFile() != null) {
        return Passwords.resolve(parsed, Path.of(endpoint.passwordFile()), null, env);
      }
      ConnectionSettings specific = Passwords.resolve(parsed, null, envName, env);
      return specific.hasPassword() ? specific : Passwords.resolve(parsed, null, GENERIC_PASSWORD_ENV, env);
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(key + ".passwordFile " + endpoint.passwordFile() + " does not exist");
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + key + ".passwordFile " + endpoint.passwordFile()
          + ": " + e.getClass().getSimpleName());
    }
  }
}
