package io.pgtrail.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.io.File;
import java.util.Collection;
import java.util.Map;

/**
 * Which Kubernetes API server the operator talks to, and with which configuration: a kubeconfig
 * (KUBECONFIG or ~/.kube/config) or the pod's service account. Checked once before the operator
 * starts, so an unreachable server is one line naming the URL and the kubeconfig, not minutes of
 * retries.
 */
public record ApiServer(Config config, String url, String configuredBy) {
  private static final int PROBE_TIMEOUT_MS = 5_000;

  /** A problem the user fixes in their kubeconfig, KUBECONFIG or network; the message is one line. */
  public static final class Unusable extends Exception {
    Unusable(String message) {
      super(message, null, false, false);
    }
  }

  /** The configuration fabric8 resolves from the environment, with where it came from. */
  public static ApiServer resolve(Map<String, String> env) throws Unusable {
    Collection<String> named = Config.getKubeconfigFilenames();
    boolean explicit = System.getProperty(Config.KUBERNETES_KUBECONFIG_FILE) != null || env.get("KUBECONFIG") != null;
    if (explicit && !named.isEmpty() && named.stream().map(File::new).noneMatch(File::isFile)) {
      throw new Unusable("KUBECONFIG names " + String.join(", ", named) + ", which does not exist");
    }
    Config config;
    try {
      config = Config.autoConfigure(null);
    } catch (RuntimeException unreadable) {
      throw new Unusable("cannot read the kubeconfig " + (named.isEmpty() ? "~/.kube/config" : String.join(", ", named))
          + ": " + innermostMessage(unreadable));
    }
    return new ApiServer(config, config.getMasterUrl(), configuredBy(config, env));
  }

  private static String configuredBy(Config config, Map<String, String> env) {
    if (config.getFile() != null) {
      String context = config.getCurrentContext() == null ? "" : ", context " + config.getCurrentContext().getName();
      return "kubeconfig " + config.getFile() + context;
    }
    if (env.get("KUBERNETES_SERVICE_HOST") != null) {
      return "in-cluster service account";
    }
    return "no kubeconfig found (KUBECONFIG unset, ~/.kube/config absent) and not in a cluster";
  }

  /** Asks the server for its version, without retries; returns it, or says in one line why not. */
  public String probe() throws Unusable {
    Config once = new ConfigBuilder(config)
        .withConnectionTimeout(PROBE_TIMEOUT_MS)
        .withRequestTimeout(PROBE_TIMEOUT_MS)
        .withRequestRetryBackoffLimit(0)
        .build();
    try (KubernetesClient client = new KubernetesClientBuilder().withConfig(once).build()) {
      return client.getKubernetesVersion().getGitVersion();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 401 || e.getCode() == 403) {
        throw new Unusable("the Kubernetes API server at " + url + " (" + configuredBy
            + ") refused the credentials (HTTP " + e.getCode() + ")");
      }
      throw new Unusable("cannot reach the Kubernetes API server at " + url + " (" + configuredBy + "): "
          + rootCause(e));
    } catch (RuntimeException e) {
      throw new Unusable("cannot reach the Kubernetes API server at " + url + " (" + configuredBy + "): "
          + rootCause(e));
    }
  }

  /** The network's answer in words, not the client library's wrapper. */
  private static String rootCause(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t instanceof java.net.UnknownHostException || t instanceof java.nio.channels.UnresolvedAddressException) {
        return "cannot resolve the host name";
      }
    }
    Throwable deepest = thrown;
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t instanceof java.net.ConnectException || t instanceof java.nio.channels.ClosedChannelException) {
        return "connection refused";
      }
      if (t instanceof java.net.http.HttpTimeoutException || t instanceof java.net.SocketTimeoutException
          || t instanceof java.util.concurrent.TimeoutException) {
        return "no answer within " + PROBE_TIMEOUT_MS / 1000 + " s";
      }
      if (t instanceof javax.net.ssl.SSLException) {
        return "TLS failed (" + firstLine(t.getMessage()) + ")";
      }
      deepest = t;
    }
    String detail = firstLine(deepest.getMessage());
    return detail.isEmpty() ? deepest.getClass().getSimpleName().replace("Exception", " error") : detail;
  }

  private static String innermostMessage(Throwable thrown) {
    String message = null;
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t.getMessage() != null && !t.getMessage().isBlank()) {
        message = t.getMessage();
      }
    }
    return message == null ? "not a valid kubeconfig" : firstLine(message);
  }

  private static String firstLine(String message) {
    return message == null ? "" : message.strip().split("\\R", 2)[0];
  }
}
