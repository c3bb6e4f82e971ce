package io.pgtrail.worker.bench;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.worker.sink.ChangesPartitions;
import io.pgtrail.worker.sink.ChangesTable;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Fills a partitioned {@code changes} with history, fast: one daily partition per past day, each built as a
 * plain table (rows generated server-side by {@code INSERT ... SELECT generate_series}, then its indexes built in
 * bulk), then ATTACHed with a CHECK constraint that spares the scan, so ATTACH only adopts what is there. Two
 * partitions are built at a time. Rows look like the worker's: the bench's orders rows as before/after
 * jsonb, CREATE/UPDATE/DELETE in turn.
 */
final class StorePrefill {
  /** Seconds spent in each step, summed over the partitions (built two at a time). */
  static final java.util.concurrent.ConcurrentHashMap<String, Double> STEP_SECONDS =
      new java.util.concurrent.ConcurrentHashMap<>();

  private StorePrefill() {}

  private static void timed(Statement s, String step, String sql) throws java.sql.SQLException {
    long started = System.nanoTime();
    s.execute(sql);
    STEP_SECONDS.merge(step, (System.nanoTime() - started) / 1e9, Double::sum);
  }

  static String stepSummary() {
    StringBuilder sb = new StringBuilder();
    new java.util.TreeMap<>(STEP_SECONDS).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ")
        .append(k).append(' ').append(String.format(java.util.Locale.ROOT, "%.1f s", v)));
    return sb.toString();
  }

  /** Partitions of the days before today's, oldest first; returns their names. */
  static List<String> fill(ConnectionSettings destination, long rows, int days, Instant now, int parallel)
      throws Exception {
    Instant today = now.truncatedTo(ChronoUnit.DAYS);
    List<Day> jobs = new ArrayList<>();
    long perDay = rows / days;
    long first = 1;
    for (int d = days; d >= 1; d--) {
      Instant from = today.minus(d, ChronoUnit.DAYS);
      long n = d == 1 ? rows - perDay * (days - 1) : perDay;
      jobs.add(new Day(ChangesPartitions.nameFor(from), from, first, n));
      first += n;
    }
    ExecutorService pool = Executors.newFixedThreadPool(parallel);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (Day job : jobs) {
        futures.add(pool.submit(() -> {
          build(destination, job);
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    return jobs.stream().map(Day::name).toList();
  }

  private record Day(String name, Instant from, long firstPosition, long rows) {}

  private static void build(ConnectionSettings destination, Day job) throws Exception {
    Instant to = job.from().plus(1, ChronoUnit.DAYS);
    double stepSeconds = Duration.between(job.from(), to).toSeconds() / (double) job.rows();
    try (Connection c = PgConnections.open(destination); Statement s = c.createStatement()) {
      s.execute("SET synchronous_commit = off");
      s.execute("SET maintenance_work_mem = '512MB'");
      s.execute("SET max_parallel_maintenance_workers = 0"); // two builds at a time already use both cores
      s.execute("CREATE TABLE " + job.name() + " (LIKE changes INCLUDING DEFAULTS INCLUDING CONSTRAINTS)");
      timed(s, "insert", "INSERT INTO " + job.name() + " (id, \"database\", \"schema\", \"table\", primary_key, operation,"
          + " \"before\", \"after\", context, committed_at, queued_at, created_at, transaction_id, \"position\")"
          + " SELECT gen_random_uuid(), 'bench_source', 'public', 'orders', (g % 1000000)::text, op,"
          + " CASE WHEN op = 'CREATE' THEN '{}'::jsonb ELSE row_json END,"
          + " CASE WHEN op = 'DELETE' THEN '{}'::jsonb ELSE row_json END,"
          + " '{}', at, at, at, g / 300, g"
          + " FROM (SELECT g, (ARRAY['CREATE', 'UPDATE', 'DELETE'])[1 + g % 3] AS op,"
          + "   '" + job.from() + "'::timestamptz + (g - " + job.firstPosition() + ") * interval '" + stepSeconds
          + " seconds' AS at,"
          + "   jsonb_build_object('id', g % 1000000, 'customer', 'customer-' || (g % 997), 'note', 'note ' || g,"
          + "     'amount', (g % 100000) / 100.0, 'weight', g * 0.001, 'placed_at', '" + job.from() + "'::timestamptz,"
          + "     'attributes', jsonb_build_object('channel', 'web', 'items', g % 7, 'tags', jsonb_build_array('a', 'b')))"
          + "     AS row_json"
          + "   FROM generate_series(" + job.firstPosition() + "::bigint, " + (job.firstPosition() + job.rows() - 1)
          + ") g) r");
      for (String sql : ChangesTable.partitionKeyStatements(job.name())) {
        timed(s, "keys", sql);
      }
      for (String sql : ChangesTable.indexStatements(job.name())) {
        timed(s, sql.contains("USING gin") ? "gin indexes" : "btree indexes", sql);
      }
      s.execute("ALTER TABLE " + job.name() + " ADD CONSTRAINT " + job.name() + "_range CHECK (committed_at >= '"
          + job.from() + "' AND committed_at < '" + to + "')");
      s.execute("SET lock_timeout = '60s'");
      timed(s, "attach", "ALTER TABLE changes ATTACH PARTITION " + job.name() + " FOR VALUES FROM ('" + job.from() + "') TO ('"
          + to + "')");
      s.execute("ALTER TABLE " + job.name() + " DROP CONSTRAINT " + job.name() + "_range");
      timed(s, "vacuum", "VACUUM (ANALYZE) " + job.name()); // sets hint bits and the visibility map, as time would
    }
  }
}
