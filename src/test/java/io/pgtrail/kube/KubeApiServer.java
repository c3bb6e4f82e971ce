package io.pgtrail.kube;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real Kubernetes control plane on loopback, without Docker: etcd, kube-apiserver (built from source by
 * {@link KubeBinaries}), in RBAC mode, with
 * <ul>
 *   <li>a serving certificate the API server makes for itself ({@code --cert-dir}), which clients trust;
 *   <li>an admin (group {@code system:masters}) that authenticates with a static token;
 *   <li>a service-account signing key, so ServiceAccounts get real tokens through the TokenRequest API;
 *   <li>{@code OwnerReferencesPermissionEnforcement} on (a blockOwnerDeletion owner reference needs update on the
 *       owner's finalizers, as on OpenShift and hardened clusters);
 *   <li>an audit log (Metadata level) of every request made by a ServiceAccount, to read the exact verbs used.
 * </ul>
 * and kube-controller-manager running only its garbage collector, so owner references really delete. There
 * is no deployment controller, scheduler or kubelet: nothing runs a pod.
 * One instance per test JVM ({@link #shared()}), stopped when the JVM exits.
 */
final class KubeApiServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static KubeApiServer shared;
  private static RuntimeException startFailure;

  private final Path directory;
  private final String adminToken = UUID.randomUUID().toString();
  private final List<Process> processes = new ArrayList<>();
  private int securePort;
  private String servingCertificatePem;
  private KubernetesClient admin;

  private KubeApiServer(Path directory) {
    this.directory = directory;
  }

  /** The JVM's API server, started on first use. */
  static synchronized KubeApiServer shared() {
    if (startFailure != null) {
      throw new IllegalStateException("kube-apiserver did not start for an earlier test class", startFailure);
    }
    if (shared == null) {
      Path binaries = KubeBinaries.directory();
      if (binaries == null) {
        throw new IllegalStateException("no Kubernetes binaries: annotate the test class with "
            + "@ExtendWith(KubeBinaries.Required.class) so it is skipped with the reason");
      }
      try {
        Path root = KubeBinaries.projectRoot().resolve("target/kube-apiserver");
        Files.createDirectories(root);
        KubeApiServer server = new KubeApiServer(Files.createTempDirectory(root, "run-"));
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "kube-apiserver-stop"));
        try {
          server.start(binaries);
        } catch (RuntimeException e) {
          server.close();
          throw e;
        }
        shared = server;
      } catch (IOException e) {
        startFailure = new UncheckedIOException("could not start kube-apiserver", e);
        throw startFailure;
      } catch (RuntimeException e) {
        startFailure = e;
        throw e;
      }
    }
    return shared;
  }

  private void start(Path binaries) throws IOException {
    long started = System.nanoTime();
    int etcdClientPort = freePort();
    int etcdPeerPort = freePort();
    securePort = freePort();
    String etcdUrl = "http://127.0.0.1:" + etcdClientPort;
    String peerUrl = "http://127.0.0.1:" + etcdPeerPort;
    launch("etcd", List.of(binaries.resolve("etcd").toString(),
        "--name=pgtrail-test", "--data-dir=" + directory.resolve("etcd"),
        "--listen-client-urls=" + etcdUrl, "--advertise-client-urls=" + etcdUrl,
        "--listen-peer-urls=" + peerUrl, "--initial-advertise-peer-urls=" + peerUrl,
        "--initial-cluster=pgtrail-test=" + peerUrl,
        "--unsafe-no-fsync=true", "--log-level=warn"));

    Files.writeString(directory.resolve("tokens.csv"), adminToken + ",pgtrail-test-admin,admin,\"system:masters\"\n");
    writeServiceAccountKey(directory.resolve("service-account.key"));
    Files.writeString(directory.resolve("audit-policy.yaml"), String.join("\n",
        "apiVersion: audit.k8s.io/v1",
        "kind: Policy",
        "omitStages: [RequestReceived]",
        "rules:",
        "  - level: Metadata",
        "    userGroups: [\"system:serviceaccounts\"]",
        "  - level: None",
        ""));
    launch("kube-apiserver", List.of(binaries.resolve("kube-apiserver").toString(),
        "--etcd-servers=" + etcdUrl,
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--secure-port=" + securePort,
        "--cert-dir=" + directory.resolve("certs"),
        "--token-auth-file=" + directory.resolve("tokens.csv"),
        "--authorization-mode=RBAC",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        "--service-account-key-file=" + directory.resolve("service-account.key"),
        "--service-account-signing-key-file=" + directory.resolve("service-account.key"),
        "--service-cluster-ip-range=10.0.0.0/24",
        "--endpoint-reconciler-type=none",
        "--enable-priority-and-fairness=false",
        "--disable-admission-plugins=ServiceAccount",
        "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
        "--audit-policy-file=" + directory.resolve("audit-policy.yaml"),
        "--audit-log-path=" + auditLogFile(),
        "--audit-log-mode=blocking",
        "--v=1"));

    Path certificate = directory.resolve("certs/apiserver.crt");
    await("kube-apiserver's serving certificate").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
        .until(() -> requireRunning() && Files.exists(certificate) && Files.size(certificate) > 0);
    servingCertificatePem = Files.readString(certificate);
    admin = new KubernetesClientBuilder().withConfig(config(adminToken, "default")).build();
    await("kube-apiserver /readyz").atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500))
        .ignoreExceptions().until(() -> requireRunning() && "ok".equals(admin.raw("/readyz")));
    launch("kube-controller-manager", List.of(binaries.resolve("kube-controller-manager").toString(),
        "--kubeconfig=" + kubeconfig(adminToken, "default"),
        "--controllers=garbagecollector",
        "--leader-elect=false",
        "--secure-port=0",
        "--v=1"));
    System.out.printf("kube-apiserver ready on 127.0.0.1:%d after %d ms (logs in %s)%n", securePort,
        (System.nanoTime() - started) / 1_000_000, directory);
  }

  /** A client as the cluster admin (system:masters). */
  KubernetesClient admin() {
    return admin;
  }

  /** Client settings for a bearer token, trusting the API server's own certificate. */
  Config config(String token, String namespace) {
    return new ConfigBuilder(Config.empty()).withMasterUrl("https://127.0.0.1:" + securePort)
        .withCaCertData(base64(servingCertificatePem)).withOauthToken(token).withNamespace(namespace)
        .withRequestTimeout(30_000).build();
  }

  /** A short-lived token of a ServiceAccount, from the TokenRequest API (as the kubelet would mount it). */
  String serviceAccountToken(String namespace, String serviceAccount) {
    TokenRequest request = new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build();
    return admin.serviceAccounts().inNamespace(namespace).withName(serviceAccount).tokenRequest(request)
        .getStatus().getToken();
  }

  /** A kubeconfig file for the token: what a process started as in production reads (env KUBECONFIG). */
  Path kubeconfig(String token, String namespace) throws IOException {
    Path file = Files.createTempFile(directory, "kubeconfig-", ".yaml");
    Files.writeString(file, String.join("\n",
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "  - name: test",
        "    cluster:",
        "      server: https://127.0.0.1:" + securePort,
        "      certificate-authority-data: " + base64(servingCertificatePem),
        "users:",
        "  - name: test",
        "    user:",
        "      token: " + token,
        "contexts:",
        "  - name: test",
        "    context: {cluster: test, user: test, namespace: " + namespace + "}",
        "current-context: test",
        ""));
    return file;
  }

  Path auditLogFile() {
    return directory.resolve("audit.log");
  }

  /** Every audit event written so far (ResponseComplete and Panic stages; one JSON object per line). */
  List<JsonNode> auditEvents() throws IOException {
    List<JsonNode> events = new ArrayList<>();
    if (!Files.exists(auditLogFile())) {
      return events;
    }
    for (String line : Files.readAllLines(auditLogFile())) {
      if (!line.isBlank()) {
        events.add(JSON.readTree(line));
      }
    }
    return events;
  }

  Path directory() {
    return directory;
  }

  int securePort() {
    return securePort;
  }

  String servingCertificatePem() {
    return servingCertificatePem;
  }

  String adminToken() {
    return adminToken;
  }

  private void launch(String name, List<String> command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(directory.resolve(name + ".log").toFile()).start();
    processes.add(process);
  }

  private boolean requireRunning() throws IOException {
    for (Process process : processes) {
      if (!process.isAlive()) {
        String name = process.info().command().orElse("a control-plane process");
        throw new IllegalStateException(name + " exited with " + process.exitValue() + "; logs in " + directory
            + "\n" + tail(directory.resolve("kube-apiserver.log")) + tail(directory.resolve("etcd.log"))
            + tail(directory.resolve("kube-controller-manager.log")));
      }
    }
    return true;
  }

  private static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "";
    }
    List<String> lines = Files.readAllLines(log);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size())) + "\n";
  }

  /** An RSA key pair in PKCS#8 PEM: kube-apiserver signs ServiceAccount tokens with it and verifies them. */
  private static void writeServiceAccountKey(Path file) throws IOException {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
      generator.initialize(2048);
      KeyPair pair = generator.generateKeyPair();
      Files.writeString(file, "-----BEGIN PRIVATE KEY-----\n"
          + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pair.getPrivate().getEncoded())
          + "\n-----END PRIVATE KEY-----\n");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String base64(String text) {
    return Base64.getEncoder().encodeToString(text.getBytes(StandardCharsets.UTF_8));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 0, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close();
      admin = null;
    }
    // kube-apiserver first, then etcd
    for (int i = processes.size() - 1; i >= 0; i--) {
      Process process = processes.get(i);
      process.destroy();
      try {
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
    processes.clear();
  }
}
