package io.pgtrail.worker.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.sink.ChangesTable;
import io.pgtrail.worker.sink.PartitionPeriod;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every query in docs/querying.md, EXPLAINed on a partitioned changes table holding three weeks of changes
 * (60,000 rows, 20 tables, 500 users) after ANALYZE, with the planner's defaults: each must read through an
 * index of changes and never scan a partition that holds rows sequentially, and the dated ones must skip
 * partitions.
 */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class StoreQueriesTest {
  private static final Pattern SQL_BLOCK = Pattern.compile("<!-- EXPLAINed by StoreQueriesTest -->\\n```sql\\n(.*?)```", Pattern.DOTALL);
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameter PgVersion version;

  static List<String> documentedQueries() throws Exception {
    List<String> queries = new ArrayList<>();
    Matcher m = SQL_BLOCK.matcher(Files.readString(Path.of("docs/querying.md")));
    while (m.find()) {
      queries.add(m.group(1).trim().replaceAll(";$", ""));
    }
    return queries;
  }

  @Test
  void everyDocumentedQueryIsAnsweredByAnIndex() throws Exception {
    List<String> queries = documentedQueries();
    assertThat(queries).hasSize(3);
    ConnectionSettings db = TestPostgres.newDatabase(version, "queries");
    try (Connection c = PgConnections.open(db); Statement s = c.createStatement()) {
      ChangesTable.ensure(c, new ChangesTable.Layout(PartitionPeriod.WEEKLY, 3), Instant.parse("2026-11-02T08:00:00Z"));
      s.execute("INSERT INTO changes (\"database\", \"schema\", \"table\", primary_key, operation, \"before\", \"after\","
          + " context, committed_at, queued_at, transaction_id, \"position\")"
          + " SELECT 'shop', 'public', CASE WHEN g % 20 = 0 THEN 'orders' ELSE 'table_' || (g % 20) END,"
          + " (g / 20 % 1500)::text, 'UPDATE', jsonb_build_object('n', g), jsonb_build_object('n', g + 1),"
          + " jsonb_build_object('user_id', g % 500, 'endpoint', 'PATCH /x'),"
          + " '2026-11-02'::timestamptz + g * interval '30 seconds', now(), g / 10, g"
          + " FROM generate_series(1, 60000) g");
      s.execute("ANALYZE changes");
      Set<String> indexes = leafIndexes(s);
      for (String query : queries) {
        JsonNode plan;
        try (ResultSet rs = s.executeQuery("EXPLAIN (FORMAT JSON) " + query)) {
          rs.next();
          plan = JSON.readTree(rs.getString(1)).get(0).get("Plan");
        }
        List<String> scans = new ArrayList<>();
        collectScans(plan, scans);
        assertThat(scans).as("%s%n%s", query, plan.toPrettyString())
            .isNotEmpty()
            .allSatisfy(scan -> assertThat(scan).doesNotStartWith("Seq Scan"))
            .allSatisfy(scan -> assertThat(indexes).contains(scan.substring(scan.indexOf(':') + 1)));
        if (query.contains("committed_at >=")) {
          assertThat(scans.size()).as("partitions read by %s", query).isLessThan(4);
        }
      }
      // and the answers are right: the record's history in order, on the documented query itself
      try (ResultSet rs = s.executeQuery(queries.get(0))) {
        Instant previous = Instant.MIN;
        int n = 0;
        while (rs.next()) {
          Instant at = rs.getTimestamp(1).toInstant();
          assertThat(at).isAfter(previous);
          previous = at;
          n++;
        }
        assertThat(n).isEqualTo(2);
      }
    }
  }

  /** Every index of every partition of changes. */
  private static Set<String> leafIndexes(Statement s) throws Exception {
    Set<String> names = new HashSet<>();
    try (ResultSet rs = s.executeQuery("SELECT i.indexrelid::regclass::text FROM pg_index i"
        + " WHERE i.indrelid IN (SELECT relid FROM pg_partition_tree('changes'))")) {
      while (rs.next()) {
        names.add(rs.getString(1));
      }
    }
    return names;
  }

  /** "Node Type:relation or index" of every scan node. */
  private static void collectScans(JsonNode node, List<String> scans) {
    String type = node.path("Node Type").asText();
    // an empty partition (one ahead of time, the default) costs nothing to read, and a sequential scan is its cheapest
    boolean emptyPartition = type.equals("Seq Scan") && node.path("Total Cost").asDouble() == 0.0;
    if (type.endsWith("Scan") && !type.equals("Bitmap Heap Scan") && !emptyPartition) {
      String target = node.has("Index Name") ? node.get("Index Name").asText() : node.path("Relation Name").asText();
      scans.add(type + ":" + target);
    }
    for (JsonNode child : node.path("Plans")) {
      collectScans(child, scans);
    }
  }
}
