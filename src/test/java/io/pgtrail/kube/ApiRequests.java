package io.pgtrail.kube;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.APIResource;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Plain HTTP requests to the API server, for what Fabric8's DSL does not say directly: {@code dryRun=All},
 * {@code fieldValidation=Strict} (unknown fields are an error, not silently pruned) and server-side apply
 * with a chosen field manager. The answer is kept whole, so a test can show the server's own message.
 */
final class ApiRequests {
  static final ObjectMapper JSON = new ObjectMapper();

  record Response(int status, JsonNode body) {
    boolean succeeded() {
      return status / 100 == 2;
    }

    String message() {
      return body.path("message").asText(body.toString());
    }
  }

  private final KubeApiServer server;
  private final String token;
  private final HttpClient http;

  ApiRequests(KubeApiServer server, String token) {
    this.server = server;
    this.token = token;
    this.http = HttpClient.newBuilder().sslContext(trusting(server.servingCertificatePem()))
        .connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** The collection URL of a manifest's kind, found through discovery (so the plural is the server's). */
  String collectionPath(JsonNode manifest, String namespace) {
    String apiVersion = manifest.path("apiVersion").asText();
    String kind = manifest.path("kind").asText();
    APIResource resource = server.admin().getApiResources(apiVersion).getResources().stream()
        .filter(r -> r.getKind().equals(kind) && !r.getName().contains("/")).findFirst()
        .orElseThrow(() -> new IllegalStateException("the API server does not serve " + apiVersion + " " + kind));
    String prefix = apiVersion.contains("/") ? "/apis/" + apiVersion : "/api/" + apiVersion;
    return Boolean.TRUE.equals(resource.getNamespaced())
        ? prefix + "/namespaces/" + namespace + "/" + resource.getName() : prefix + "/" + resource.getName();
  }

  /** POST with strict field validation; {@code dryRun} leaves nothing behind. */
  Response create(JsonNode manifest, String namespace, boolean dryRun) {
    String query = "?fieldValidation=Strict" + (dryRun ? "&dryRun=All" : "");
    return send(request(collectionPath(manifest, namespace) + query)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(manifest.toString())));
  }

  /** PUT of a whole object (its resourceVersion decides conflicts), strict field validation. */
  Response replace(JsonNode manifest, String namespace) {
    String path = collectionPath(manifest, namespace) + "/" + manifest.path("metadata").path("name").asText();
    return send(request(path + "?fieldValidation=Strict").header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(manifest.toString())));
  }

  /** PUT of a whole object to its status subresource (an Update, as Fabric8's updateStatus does). */
  Response replaceStatus(JsonNode manifest, String namespace) {
    String path = collectionPath(manifest, namespace) + "/" + manifest.path("metadata").path("name").asText()
        + "/status";
    return send(request(path + "?fieldValidation=Strict").header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(manifest.toString())));
  }

  /** Server-side apply of {@code manifest} (optionally to a subresource such as status) as {@code fieldManager}. */
  Response apply(JsonNode manifest, String namespace, String subresource, String fieldManager, boolean force) {
    return apply(manifest, namespace, subresource, fieldManager, force, false);
  }

  /** Server-side apply; with {@code dryRun} validated (created or merged) but not stored. */
  Response apply(JsonNode manifest, String namespace, String subresource, String fieldManager, boolean force,
      boolean dryRun) {
    String path = collectionPath(manifest, namespace) + "/" + manifest.path("metadata").path("name").asText()
        + (subresource == null ? "" : "/" + subresource);
    return send(request(path + "?fieldValidation=Strict&fieldManager=" + fieldManager + (force ? "&force=true" : "")
        + (dryRun ? "&dryRun=All" : ""))
        .header("Content-Type", "application/apply-patch+yaml")
        .method("PATCH", HttpRequest.BodyPublishers.ofString(manifest.toString())));
  }

  Response get(String path) {
    return send(request(path).GET());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + server.securePort() + path))
        .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
        .header("Accept", "application/json");
  }

  private Response send(HttpRequest.Builder builder) {
    try {
      HttpResponse<String> response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
      String body = response.body();
      return new Response(response.statusCode(), body == null || body.isBlank() ? JSON.createObjectNode()
          : JSON.readTree(body));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static SSLContext trusting(String pem) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      int i = 0;
      for (Certificate certificate : CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
        store.setCertificateEntry("kube-apiserver-" + i++, certificate);
      }
      TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trust.init(store);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, trust.getTrustManagers(), null);
      return context;
    } catch (Exception e) {
      throw new IllegalStateException("cannot trust kube-apiserver's certificate", e);
    }
  }
}
