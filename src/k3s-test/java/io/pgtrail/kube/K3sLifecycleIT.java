package io.pgtrail.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.github.dockerjava.api.model.ContainerNetwork;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.pgtrail.helm.Helm;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.SslMode;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.ImageFromDockerfile;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The lifecycle scenario of the real-API-server tier ({@link LifecycleScenario}) on a whole cluster: k3s started
 * by Testcontainers, the project's image built from its Dockerfile and imported into k3s's containerd, the chart
 * installed with helm (the operator runs as its pod, the worker as a real pod), PostgreSQL in a container on the
 * same Docker network with {@code wal_level=logical}. Beyond the tier below it adds the kubelet, the scheduler,
 * the deployment controller, the image and a worker that really streams into the trail.
 *
 * <p>Opt-in ({@code mvn -Pk3s verify -Dit.test=K3sLifecycleIT}) and only where Docker runs. The project's own
 * machines have no Docker: this test has never run there, and CI does not run it. Without Docker it fails
 * (never skips), so a run that was asked for cannot pass without having run.
 */
@Tag("k3s")
class K3sLifecycleIT {
  static final String K3S_IMAGE = System.getProperty("pgtrail.test.k3s.image", "rancher/k3s:v1.34.6-k3s1");
  static final String POSTGRES_IMAGE = System.getProperty("pgtrail.test.k3s.postgres", "postgres:17");
  /** Not "latest": the kubelet then uses the imported image (IfNotPresent) instead of pulling. */
  static final String IMAGE_REPOSITORY = "pgtrail";
  static final String IMAGE_TAG = "k3s-test";
  static final String NAMESPACE = "shop";
  static final String SUPERUSER_PASSWORD = "k3s-superuser";

  @Test
  void theChartsOperatorRunsTheLifecycleOnAWholeCluster() throws Exception {
    requireDocker();
    try (Network network = Network.newNetwork();
        GenericContainer<?> postgres = postgresContainer(network);
        K3sContainer k3s = new K3sContainer(DockerImageName.parse(K3S_IMAGE)).withNetwork(network)) {
      Startables.deepStart(postgres, k3s).join();
      importIntoK3s(k3s, buildProjectImage());
      Path kubeconfig = Files.createTempFile("k3s-kubeconfig", ".yaml");
      Files.writeString(kubeconfig, k3s.getKubeConfigYaml());
      Helm.install(kubeconfig, Duration.ofMinutes(5), "--set", "image.repository=" + IMAGE_REPOSITORY,
          "--set", "image.tag=" + IMAGE_TAG);

      try (KubernetesClient admin = new KubernetesClientBuilder()
          .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build()) {
        admin.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata()
            .build()).create();
        LifecycleScenario.Outcome outcome = new LifecycleScenario(admin, NAMESPACE,
            reachable(postgres, network), operatorPod(admin), true).run();
        LifecycleScenario.assertOperatorLog(operatorLog(admin), NAMESPACE, outcome);
      }
    }
  }

  /** Fails (never skips): whoever turned the profile on asked for this run. */
  static void requireDocker() {
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      fail("K3sLifecycleIT needs Docker (Testcontainers found no Docker environment): it starts k3s and"
          + " PostgreSQL in containers and builds the project's image. It cannot run on machines without Docker,"
          + " such as the project's own; run it where Docker runs, or leave the k3s profile off.");
    }
  }

  static GenericContainer<?> postgresContainer(Network network) {
    return new GenericContainer<>(DockerImageName.parse(POSTGRES_IMAGE))
        .withNetwork(network)
        .withEnv("POSTGRES_PASSWORD", SUPERUSER_PASSWORD)
        .withCommand("postgres", "-c", "wal_level=logical", "-c", "max_replication_slots=10",
            "-c", "max_wal_senders=10")
        .withExposedPorts(5432)
        // the entrypoint starts the server twice (initdb, then for real)
        .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*", 2)
            .withStartupTimeout(Duration.ofMinutes(2)));
  }

  /** The production image, as README's `docker build .` makes it (the Dockerfile packages the jar itself). */
  static String buildProjectImage() {
    Path root = KubeBinaries.projectRoot();
    return new ImageFromDockerfile(IMAGE_REPOSITORY + ":" + IMAGE_TAG, false)
        .withFileFromPath("Dockerfile", root.resolve("Dockerfile"))
        .withFileFromPath("pom.xml", root.resolve("pom.xml"))
        .withFileFromPath("src", root.resolve("src"))
        .withFileFromPath("k8s-examples", root.resolve("k8s-examples"))
        .get();
  }

  /** {@code docker save} into k3s's containerd: the kubelet finds the image without a registry. */
  static void importIntoK3s(K3sContainer k3s, String image) throws Exception {
    Path archive = Files.createTempFile("pgtrail-image", ".tar");
    try (InputStream saved = DockerClientFactory.instance().client().saveImageCmd(IMAGE_REPOSITORY)
        .withTag(IMAGE_TAG).exec()) {
      Files.copy(saved, archive, StandardCopyOption.REPLACE_EXISTING);
    }
    k3s.copyFileToContainer(MountableFile.forHostPath(archive), "/tmp/pgtrail-image.tar");
    ExecResult imported = k3s.execInContainer("ctr", "--namespace", "k8s.io", "images", "import",
        "/tmp/pgtrail-image.tar");
    assertThat(imported.getExitCode()).as("ctr images import %s: %s", image, imported.getStderr()).isZero();
    Files.delete(archive);
  }

  /** The test reaches PostgreSQL through the mapped port; pods reach the container's address on the network. */
  static LifecycleScenario.Postgres reachable(GenericContainer<?> postgres, Network network) {
    String addressOnNetwork = postgres.getContainerInfo().getNetworkSettings().getNetworks().values().stream()
        .filter(n -> network.getId().equals(n.getNetworkID())).map(ContainerNetwork::getIpAddress).findFirst()
        .orElseThrow(() -> new IllegalStateException("PostgreSQL's container is not on the test network"));
    AtomicInteger databases = new AtomicInteger();
    ConnectionSettings superuser = ConnectionSettings.builder().host(postgres.getHost())
        .port(postgres.getMappedPort(5432)).database("postgres").user("postgres").password(SUPERUSER_PASSWORD)
        .sslMode(SslMode.DISABLE).build();
    return new LifecycleScenario.Postgres() {
      @Override
      public ConnectionSettings newDatabase(String prefix) {
        String name = prefix + "_" + databases.incrementAndGet();
        execute(superuser, "CREATE DATABASE " + name);
        return superuser.toBuilder().database(name).build();
      }

      @Override
      public void execute(ConnectionSettings database, String... statements) {
        try (Connection c = DriverManager.getConnection(database.jdbcUrl(), database.jdbcProperties());
            Statement s = c.createStatement()) {
          for (String sql : statements) {
            s.execute(sql);
          }
        } catch (SQLException e) {
          throw new IllegalStateException("statement failed on PostgreSQL's container: " + e.getMessage(), e);
        }
      }

      @Override
      public ConnectionSettings asSeenFromCluster(ConnectionSettings database) {
        return database.toBuilder().host(addressOnNetwork).port(5432).build();
      }
    };
  }

  static final Map<String, String> OPERATOR_POD = Map.of("app.kubernetes.io/instance", Helm.RELEASE,
      "app.kubernetes.io/component", "operator");

  /** The chart's operator pod: alive while its container has not restarted; its log when something is not reached. */
  static LifecycleScenario.Operator operatorPod(KubernetesClient admin) {
    return new LifecycleScenario.Operator() {
      @Override
      public boolean isAlive() {
        List<Pod> pods = operatorPods(admin);
        return !pods.isEmpty() && pods.stream().allMatch(pod -> pod.getStatus() != null
            && pod.getStatus().getContainerStatuses().stream()
                .allMatch(c -> c.getRestartCount() == 0 && c.getState().getTerminated() == null));
      }

      @Override
      public String diagnostics() {
        String log = operatorLog(admin);
        return "operator log (last lines): " + log.substring(Math.max(0, log.length() - 4000));
      }
    };
  }

  static List<Pod> operatorPods(KubernetesClient admin) {
    return admin.pods().inNamespace(Helm.NAMESPACE).withLabels(OPERATOR_POD).list().getItems();
  }

  static String operatorLog(KubernetesClient admin) {
    List<Pod> pods = operatorPods(admin);
    assertThat(pods).as("the operator's pod").hasSize(1);
    return admin.pods().inNamespace(Helm.NAMESPACE).withName(pods.get(0).getMetadata().getName()).getLog();
  }
}
