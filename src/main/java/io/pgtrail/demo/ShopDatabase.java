package io.pgtrail.demo;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The demo's application: a small shop schema and the traffic a web app would send, some of it with
 * application context appended the way Bemi's ORM packages do ({@code /*Bemi {json} Bemi*}{@code /}).
 */
final class ShopDatabase {
  static final String SCHEMA = "shop";
  /** Marks the schema as the demo's, so the demo never writes into someone's real {@code shop} schema. */
  static final String MARKER = "created by the pgtrail demo";
  /** A login only bumps this column, which the demo's TrackingPolicy ignores. */
  static final String IGNORED_COLUMN = "customers.last_login_at";
  static final String LOGIN_ENDPOINT = "POST /login";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ConnectionSettings settings;

  ShopDatabase(ConnectionSettings settings) {
    this.settings = settings;
  }

  ConnectionSettings settings() {
    return settings;
  }

  /** Creates the shop schema and its tables (owned by the demo's user); refuses a foreign {@code shop} schema. */
  void create() throws SQLException, PgConnectException {
    try (Connection c = PgConnections.open(settings); Statement s = c.createStatement()) {
      String comment = existingSchemaComment(c);
      if (comment != null && !comment.equals(MARKER)) {
        throw new DemoFailure("database " + settings.database() + " already has a schema \"" + SCHEMA
            + "\" that the demo did not create; point --source-url at a scratch database");
      }
      s.execute("CREATE SCHEMA IF NOT EXISTS shop");
      s.execute("COMMENT ON SCHEMA shop IS '" + MARKER + "'");
      s.execute("CREATE TABLE IF NOT EXISTS shop.customers ("
          + " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
          + " name text NOT NULL, email text NOT NULL, last_login_at timestamptz)");
      s.execute("CREATE TABLE IF NOT EXISTS shop.products ("
          + " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
          + " sku text NOT NULL, name text NOT NULL, price numeric(10,2) NOT NULL, stock integer NOT NULL)");
      s.execute("CREATE TABLE IF NOT EXISTS shop.orders ("
          + " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
          + " customer_id bigint NOT NULL REFERENCES shop.customers,"
          + " status text NOT NULL DEFAULT 'pending', total numeric(10,2) NOT NULL)");
    }
  }

  private static String existingSchemaComment(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace WHERE nspname = ?")) {
      ps.setString(1, SCHEMA);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }

  /** What the traffic did, for the report. */
  record Traffic(long customerId, long orderId, int recordedChanges) {}

  /**
   * A customer signs up, products are imported, she orders, logs in (only {@code last_login_at}
   * changes: not recorded), the order is paid, she changes her e-mail, a product is discontinued.
   * Each step is one transaction; the last one is a DELETE on products.
   */
  Traffic writeTraffic() throws SQLException, PgConnectException {
    try (Connection c = PgConnections.open(settings)) {
      c.setAutoCommit(false);
      long ada = insertId(c, "INSERT INTO shop.customers (name, email) VALUES (?, ?) RETURNING id"
          + bemi(context(null, "POST /signup")), "Ada Lovelace", "ada@example.com");
      c.commit();

      // an import script: no Bemi comment, so no context
      String addProduct = "INSERT INTO shop.products (sku, name, price, stock) VALUES (?, ?, ?, ?) RETURNING id";
      long keyboard = insertId(c, addProduct, "KB-1", "Keyboard", new BigDecimal("49.90"), 10);
      long mouse = insertId(c, addProduct, "MS-1", "Mouse", new BigDecimal("19.90"), 25);
      c.commit();

      Map<String, Object> ordering = context(ada, "POST /orders");
      long order = insertId(c, "INSERT INTO shop.orders (customer_id, total) VALUES (?, 49.90) RETURNING id"
          + bemi(ordering), ada);
      update(c, "UPDATE shop.products SET stock = stock - 1 WHERE id = ?" + bemi(ordering), keyboard);
      c.commit();

      update(c, "UPDATE shop.customers SET last_login_at = now() WHERE id = ?" + bemi(context(ada, LOGIN_ENDPOINT)),
          ada);
      c.commit();

      update(c, "UPDATE shop.orders SET status = 'paid' WHERE id = ?"
          + bemi(context("payments-webhook", "POST /webhooks/payment")), order);
      c.commit();

      update(c, "UPDATE shop.customers SET email = ?, last_login_at = now() WHERE id = ?"
          + bemi(context(ada, "PATCH /profile")), "ada@analytical.engine", ada);
      c.commit();

      update(c, "DELETE FROM shop.products WHERE id = ?" + bemi(context("admin", "DELETE /products/MS-1")), mouse);
      c.commit();
      // recorded: signup 1, import 2, order 2, login 0 (ignored column only), payment 1, profile 1, discontinue 1
      return new Traffic(ada, order, 8);
    }
  }

  private static Map<String, Object> context(Object userId, String endpoint) {
    Map<String, Object> context = new LinkedHashMap<>();
    if (userId != null) {
      context.put("user_id", userId);
    }
    context.put("endpoint", endpoint);
    return context;
  }

  /** The comment Bemi's ORM packages append to each statement; the context triggers read it. */
  static String bemi(Map<String, Object> context) {
    try {
      return " /*Bemi " + JSON.writeValueAsString(context) + " Bemi*/";
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static long insertId(Connection c, String sql, Object... values) throws SQLException, PgConnectException {
    try (PreparedStatement ps = bind(c.prepareStatement(sql), values); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void update(Connection c, String sql, Object... values) throws SQLException, PgConnectException {
    try (PreparedStatement ps = bind(c.prepareStatement(sql), values)) {
      ps.executeUpdate();
    }
  }

  private static PreparedStatement bind(PreparedStatement ps, Object... values) throws SQLException, PgConnectException {
    for (int i = 0; i < values.length; i++) {
      ps.setObject(i + 1, values[i]);
    }
    return ps;
  }
}
