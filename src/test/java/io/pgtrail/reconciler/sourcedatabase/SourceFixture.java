package io.pgtrail.reconciler.sourcedatabase;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.pgtrail.api.v1alpha1.DestinationEndpointSpec;
import io.pgtrail.api.v1alpha1.LocalObjectRef;
import io.pgtrail.api.v1alpha1.PostgresEndpointSpec;
import io.pgtrail.api.v1alpha1.ProviderSpec;
import io.pgtrail.api.v1alpha1.ReclaimPolicy;
import io.pgtrail.api.v1alpha1.SourceConnectionSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.TrackingPolicy;
import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.Db;
import io.pgtrail.testing.Endpoints;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real source database (tables orders, customers and sales.invoices), a destination database, roles
 * with passwords, and the Secrets and custom resources that describe them.
 */
final class SourceFixture {
  private static final AtomicInteger COUNTER = new AtomicInteger();

  final LocalPostgres server;
  final ConnectionSettings sourceDb;
  final ConnectionSettings destinationDb;
  final String adminUser;
  final String adminPassword;
  final String destinationUser;
  final String destinationPassword;
  final String secretName;
  /** Slots are server-wide: each fixture gets its own slot name so tests sharing a server never collide. */
  final String slotName;

  SourceFixture(LocalPostgres server, String prefix) {
    this.server = server;
    int n = COUNTER.incrementAndGet();
    String suffix = n + "_" + ProcessHandle.current().pid();
    this.adminUser = "admin_" + suffix;
    this.adminPassword = "TestPw-" + UUID.randomUUID();
    this.destinationUser = "audit_" + suffix;
    this.destinationPassword = "DestPw-" + UUID.randomUUID();
    this.sourceDb = TestPostgres.newDatabase(server, prefix);
    this.destinationDb = TestPostgres.newDatabase(server, prefix + "_audit");
    this.secretName = prefix.replace('_', '-') + "-" + n + "-credentials";
    this.slotName = "slot_" + suffix;
    server.execute(sourceDb.database(),
        "CREATE TABLE public.orders (id bigint PRIMARY KEY, total numeric, updated_at timestamptz)",
        "CREATE TABLE public.customers (id bigint PRIMARY KEY, name text)",
        "CREATE SCHEMA sales",
        "CREATE TABLE sales.invoices (id bigint PRIMARY KEY, amount numeric)",
        "CREATE ROLE " + adminUser + " LOGIN SUPERUSER PASSWORD '" + adminPassword + "'",
        "CREATE ROLE " + destinationUser + " LOGIN PASSWORD '" + destinationPassword + "'");
    // the worker creates its changes table in the destination's public schema
    server.execute(destinationDb.database(), "GRANT CREATE ON SCHEMA public TO " + destinationUser);
  }

  static SourceFixture on(PgVersion version, String prefix) {
    return new SourceFixture(TestPostgres.shared(version), prefix);
  }

  void createSecrets(MockCluster cluster) {
    cluster.createSecret(secretName, Map.of("username", adminUser, "password", adminPassword));
    cluster.createSecret(secretName + "-audit", Map.of("username", destinationUser, "password", destinationPassword));
  }

  SourceDatabase source(String name) {
    SourceDatabase sdb = new SourceDatabase();
    sdb.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(MockCluster.NAMESPACE).build());
    SourceDatabaseSpec spec = new SourceDatabaseSpec();
    spec.provider = ProviderSpec.SELF_MANAGED;
    spec.connection = Endpoints.of(new SourceConnectionSpec(), sourceDb, secretName);
    spec.destination = Endpoints.of(new DestinationEndpointSpec(), destinationDb, secretName + "-audit");
    spec.reclaimPolicy = ReclaimPolicy.DELETE;
    spec.slotName = slotName;
    sdb.setSpec(spec);
    return sdb;
  }


  static TrackingPolicy policy(String name, String source, List<String> tables, List<String> schemas) {
    TrackingPolicy policy = new TrackingPolicy();
    policy.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(MockCluster.NAMESPACE).build());
    TrackingPolicySpec spec = new TrackingPolicySpec();
    spec.sourceRef = new LocalObjectRef(source);
    spec.tables = new ArrayList<>(tables);
    spec.schemas = new ArrayList<>(schemas);
    spec.ignoreColumns = new ArrayList<>(List.of("orders.updated_at"));
    policy.setSpec(spec);
    return policy;
  }

  // ---- catalog facts --------------------------------------------------------------------------

  List<String> publishedTables(String publication) throws Exception {
    return strings("SELECT schemaname || '.' || tablename FROM pg_publication_tables WHERE pubname = '"
        + publication + "' ORDER BY 1");
  }

  boolean publicationExists(String publication) throws Exception {
    return !strings("SELECT pubname FROM pg_publication WHERE pubname = '" + publication + "'").isEmpty();
  }

  boolean slotExists(String slot) throws Exception {
    return !strings("SELECT slot_name FROM pg_replication_slots WHERE slot_name = '" + slot + "'").isEmpty();
  }

  String replicaIdentity(String table) throws Exception {
    return strings("SELECT relreplident::text FROM pg_class WHERE oid = '" + table + "'::regclass").get(0);
  }

  List<String> strings(String sql) throws Exception {
    try (Connection c = PgConnections.open(sourceDb); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      List<String> out = new ArrayList<>();
      while (rs.next()) {
        out.add(rs.getString(1));
      }
      return out;
    }
  }

  long destinationCount(String sql) {
    Object n = Db.scalar(destinationDb, sql);
    return n == null ? 0 : ((Number) n).longValue();
  }

  void execute(String... sql) {
    server.execute(sourceDb.database(), sql);
  }

  /** Drops the inactive slots a test left in this fixture's database (they would hold WAL forever). */
  void dropSlots() {
    try {
      execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
          + " WHERE database = current_database() AND NOT active");
    } catch (IllegalStateException ignored) {
      // a slot still in use: the server's own cleanup at shutdown handles it
    }
  }

  void dropLeftovers(String slot) {
    try {
      execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    } catch (IllegalStateException ignored) {
      // already gone
    }
  }

  static void ignore(SQLException e) {
    // helper for lambdas
  }
}
