package io.pgtrail.reconciler.sourcedatabase;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.embedded.LocalPostgres;
import io.pgtrail.testing.MockCluster;
import io.pgtrail.testing.OperatorHarness;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Measurements for the closing note, not assertions on speed: time from apply to Ready for one source,
 * then for N sources (each with its own database on one embedded server), and the JVM's heap and RSS
 * at that point (the JVM also hosts the mock API server and the test). Run with
 * {@code mvn test -Dtest=OperatorScaleBenchmark -Dpgtrail.bench=true [-Dpgtrail.bench.sources=200]}.
 */
@EnabledIfSystemProperty(named = "pgtrail.bench", matches = "true")
class OperatorScaleBenchmark {
  @Test
  void applyToReady() throws Exception {
    int sources = Integer.getInteger("pgtrail.bench.sources", 200);
    PgVersion version = PgVersion.primary();
    try (LocalPostgres server = TestPostgres.start(version, b -> b.maxReplicationSlots(sources + 10)
            .maxWalSenders(10).maxConnections(sources + 100));
        OperatorHarness harness = new OperatorHarness()
            .withOptions(o -> o.withIntervals(Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofMinutes(15)))
            .startOperator()) {
      SourceFixture template = new SourceFixture(server, "bench_template");
      template.createSecrets(harness.cluster);
      long t0 = System.nanoTime();
      ConnectionSettings[] dbs = new ConnectionSettings[sources + 1];
      for (int i = 0; i <= sources; i++) {
        String name = "bench_" + i;
        server.execute("postgres", "CREATE DATABASE " + name + " TEMPLATE " + template.sourceDb.database());
        dbs[i] = template.sourceDb.withDatabase(name);
      }
      System.out.printf("BENCH created %d databases in %d ms%n", sources + 1, (System.nanoTime() - t0) / 1_000_000);

      // one source alone
      long one = System.nanoTime();
      apply(harness, template, "single", dbs[sources]);
      harness.awaitSource("single", "Ready", "True", "Ready", Duration.ofSeconds(60));
      System.out.printf("BENCH one SourceDatabase apply -> Ready: %d ms%n", (System.nanoTime() - one) / 1_000_000);

      long many = System.nanoTime();
      for (int i = 0; i < sources; i++) {
        apply(harness, template, "src-" + i, dbs[i]);
      }
      long applied = System.nanoTime();
      await().atMost(Duration.ofMinutes(15)).pollInterval(Duration.ofSeconds(1)).until(() ->
          harness.client().resources(SourceDatabase.class).inNamespace(MockCluster.NAMESPACE).list().getItems()
              .stream().filter(s -> s.getStatus() != null && OperatorHarness.condition(s.getStatus().conditions, "Ready")
                  .filter(c -> c.getStatus().equals("True")).isPresent()).count() == sources + 1);
      long done = System.nanoTime();
      System.out.printf("BENCH %d SourceDatabases: applied in %d ms, all Ready after %d ms%n", sources,
          (applied - many) / 1_000_000, (done - many) / 1_000_000);
      System.gc();
      var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
      System.out.printf("BENCH heap used after GC %d MiB (committed %d MiB, max %d MiB); RSS %s%n",
          heap.getUsed() >> 20, heap.getCommitted() >> 20, heap.getMax() >> 20, rss());
      assertThat(harness.client().apps().deployments().inNamespace(MockCluster.NAMESPACE).list().getItems())
          .hasSize(sources + 1);
    }
  }

  private static void apply(OperatorHarness harness, SourceFixture template, String name, ConnectionSettings db) {
    harness.apply(SourceFixture.policy(name + "-policy", name, List.of("orders"), List.of()));
    SourceDatabase source = template.source(name);
    source.getSpec().connection.database = db.database();
    source.getSpec().slotName = "bench_" + name.replace('-', '_');
    harness.apply(source);
  }

  private static String rss() throws Exception {
    return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS"))
        .map(l -> l.replaceAll("\\s+", " ")).findFirst().orElse("unknown");
  }
}
