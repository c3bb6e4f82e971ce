package io.pgtrail.postgres.connect;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * Where and how to reach one PostgreSQL database. Parsed from libpq-style URLs
 * ({@code postgresql://user@host:port/db?sslmode=require}); the password is carried separately and
 * never appears in {@link #toString()}, {@link #redacted()} or {@link #jdbcUrl()}.
 */
public final class ConnectionSettings {
  public static final int DEFAULT_PORT = 5432;
  public static final int DEFAULT_CONNECT_TIMEOUT_SECONDS = 5;

  private final String host;
  private final int port;
  private final String database;
  private final String user;
  private final String password;
  private final SslMode sslMode;
  private final String sslRootCert;
  private final int connectTimeoutSeconds;
  private final String applicationName;

  private ConnectionSettings(Builder b) {
    this.host = requireText(b.host, "host");
    this.port = b.port;
    this.database = requireText(b.database, "database");
    this.user = requireText(b.user, "user");
    this.password = b.password;
    this.sslMode = b.sslMode == null ? SslMode.PREFER : b.sslMode;
    this.sslRootCert = b.sslRootCert;
    this.connectTimeoutSeconds = b.connectTimeoutSeconds;
    this.applicationName = b.applicationName == null ? "pgtrail" : b.applicationName;
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be between 1 and 65535, got " + port);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Parses {@code postgresql://[user[:password]@]host[:port]/database[?sslmode=..&sslrootcert=..
   * &connect_timeout=..&application_name=..]}. A password inside the URL is accepted but discouraged;
   * error messages never repeat the URL.
   */
  public static ConnectionSettings parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("connection URL is empty");
    }
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(
          "connection URL is not a valid postgresql:// URL (expected postgresql://USER@HOST:PORT/DB)");
    }
    if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
      throw new IllegalArgumentException(
          "connection URL must start with postgresql:// (expected postgresql://USER@HOST:PORT/DB)");
    }
    Builder b = builder();
    if (uri.getHost() == null) {
      throw new IllegalArgumentException("connection URL has no host (expected postgresql://USER@HOST:PORT/DB)");
    }
    b.host(uri.getHost().startsWith("[") ? uri.getHost().substring(1, uri.getHost().length() - 1) : uri.getHost());
    b.port(uri.getPort() == -1 ? DEFAULT_PORT : uri.getPort());
    String path = uri.getRawPath();
    if (path == null || path.length() <= 1) {
      throw new IllegalArgumentException("connection URL has no database name (expected postgresql://USER@HOST:PORT/DB)");
    }
    b.database(decode(path.substring(1)));
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null) {
      int colon = userInfo.indexOf(':');
      if (colon >= 0) {
        b.user(decode(userInfo.substring(0, colon)));
        b.password(decode(userInfo.substring(colon + 1)));
      } else {
        b.user(decode(userInfo));
      }
    }
    for (Map.Entry<String, String> option : queryOptions(uri.getRawQuery()).entrySet()) {
      switch (option.getKey()) {
        case "sslmode" -> b.sslMode(SslMode.fromLibpq(option.getValue()));
        case "sslrootcert" -> b.sslRootCert(option.getValue());
        case "connect_timeout" -> b.connectTimeoutSeconds(Integer.parseInt(option.getValue()));
        case "application_name" -> b.applicationName(option.getValue());
        case "user" -> b.user(option.getValue());
        case "dbname" -> b.database(option.getValue());
        default -> throw new IllegalArgumentException(
            "unsupported connection option '" + option.getKey()
                + "' (supported: sslmode, sslrootcert, connect_timeout, application_name)");
      }
    }
    if (b.user == null) {
      b.user(System.getenv().getOrDefault("PGUSER", "postgres"));
    }
    return b.build();
  }

  private static Map<String, String> queryOptions(String rawQuery) {
    Map<String, String> options = new LinkedHashMap<>();
    if (rawQuery == null || rawQuery.isEmpty()) {
      return options;
    }
    for (String pair : rawQuery.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String key = decode(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
      options.put(key, value);
    }
    return options;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private static String requireText(String value, String what) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("connection " + what + " is missing");
    }
    return value;
  }

  /** The JDBC URL without credentials. */
  public String jdbcUrl() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "jdbc:postgresql://" + h + ":" + port + "/" + urlEncode(database);
  }

  private static String urlEncode(String s) {
    return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** Driver properties for an ordinary (SQL) connection. */
  public Properties jdbcProperties() {
    Properties p = new Properties();
    p.setProperty("user", user);
    if (password != null) {
      p.setProperty("password", password);
    }
    p.setProperty("sslmode", sslMode.libpq());
    if (sslRootCert != null) {
      p.setProperty("sslrootcert", sslRootCert);
    }
    p.setProperty("connectTimeout", Integer.toString(connectTimeoutSeconds));
    p.setProperty("loginTimeout", Integer.toString(connectTimeoutSeconds));
    p.setProperty("socketTimeout", "0");
    p.setProperty("ApplicationName", applicationName);
    p.setProperty("tcpKeepAlive", "true");
    return p;
  }

  /** Driver properties for a logical replication connection (pgjdbc needs the simple protocol). */
  public Properties replicationProperties() {
    Properties p = jdbcProperties();
    p.setProperty("replication", "database");
    p.setProperty("assumeMinServerVersion", "14");
    p.setProperty("preferQueryMode", "simple");
    return p;
  }

  /** {@code postgresql://user@host:port/db?sslmode=...}: safe for logs, events and status. */
  public String redacted() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return "postgresql://" + user + "@" + h + ":" + port + "/" + database + "?sslmode=" + sslMode.libpq();
  }

  @Override
  public String toString() {
    return redacted();
  }

  public String host() { return host; }
  public int port() { return port; }
  public String database() { return database; }
  public String user() { return user; }
  public String password() { return password; }
  public boolean hasPassword() { return password != null; }
  public SslMode sslMode() { return sslMode; }
  public String sslRootCert() { return sslRootCert; }
  public int connectTimeoutSeconds() { return connectTimeoutSeconds; }
  public String applicationName() { return applicationName; }

  public Builder toBuilder() {
    return builder().host(host).port(port).database(database).user(user).password(password)
        .sslMode(sslMode).sslRootCert(sslRootCert).connectTimeoutSeconds(connectTimeoutSeconds)
        .applicationName(applicationName);
  }

  public ConnectionSettings withPassword(String newPassword) {
    return toBuilder().password(newPassword).build();
  }

  public ConnectionSettings withDatabase(String newDatabase) {
    return toBuilder().database(newDatabase).build();
  }

  public ConnectionSettings withUser(String newUser, String newPassword) {
    return toBuilder().user(newUser).password(newPassword).build();
  }

  /** Same server and credentials, another address: what an SSH tunnel's local end looks like. */
  public ConnectionSettings withAddress(String newHost, int newPort) {
    return toBuilder().host(newHost).port(newPort).build();
  }

  public ConnectionSettings withApplicationName(String name) {
    return toBuilder().applicationName(name).build();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ConnectionSettings other)) {
      return false;
    }
    return port == other.port && connectTimeoutSeconds == other.connectTimeoutSeconds
        && host.equals(other.host) && database.equals(other.database) && user.equals(other.user)
        && Objects.equals(password, other.password) && sslMode == other.sslMode
        && Objects.equals(sslRootCert, other.sslRootCert) && applicationName.equals(other.applicationName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(host, port, database, user, sslMode);
  }

  public static final class Builder {
    private String host;
    private int port = DEFAULT_PORT;
    private String database;
    private String user;
    private String password;
    private SslMode sslMode;
    private String sslRootCert;
    private int connectTimeoutSeconds = DEFAULT_CONNECT_TIMEOUT_SECONDS;
    private String applicationName;

    public Builder host(String v) { this.host = v; return this; }
    public Builder port(int v) { this.port = v; return this; }
    public Builder database(String v) { this.database = v; return this; }
    public Builder user(String v) { this.user = v; return this; }
    public Builder password(String v) { this.password = v; return this; }
    public Builder sslMode(SslMode v) { this.sslMode = v; return this; }
    public Builder sslRootCert(String v) { this.sslRootCert = v; return this; }
    public Builder connectTimeoutSeconds(int v) { this.connectTimeoutSeconds = v; return this; }
    public Builder applicationName(String v) { this.applicationName = v; return this; }

    public ConnectionSettings build() {
      return new ConnectionSettings(this);
    }
  }
}
