package io.pgtrail.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.Passwords;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.postgres.plan.SetupRequest;
import io.pgtrail.postgres.plan.SetupScripts;
import io.pgtrail.postgres.preflight.CheckResult;
import io.pgtrail.postgres.preflight.CheckStatus;
import io.pgtrail.postgres.preflight.Preflight;
import io.pgtrail.postgres.preflight.PreflightReport;
import io.pgtrail.ssh.ServerHostKey;
import io.pgtrail.ssh.SshTunnel;
import io.pgtrail.ssh.SshTunnelException;
import io.pgtrail.ssh.SshTunnelOptions;
import io.pgtrail.ssh.SshTunnelSettings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pgtrail check}: is this database ready for change data capture, and if not, how to fix it. */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Check that a PostgreSQL database is ready for change data capture and say how to fix what is not.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:ready (warnings allowed)", "1:a check failed", "2:cannot connect, or wrong usage"})
public final class CheckCommand implements Callable<Integer> {
  public static final int READY = 0;
  public static final int NOT_READY = 1;
  public static final int CANNOT_CONNECT = 2;

  enum Output { text, json }

  @Spec CommandSpec spec;

  @Option(names = "--url", required = true, paramLabel = "URL",
      description = "postgresql://USER@HOST:PORT/DB[?sslmode=...]; the password comes from --password-file or PGPASSWORD.")
  String url;

  @Option(names = "--password-file", paramLabel = "FILE", description = "File holding the password.")
  Path passwordFile;

  @Option(names = "--output", defaultValue = "text", paramLabel = "FORMAT", description = "text or json (default: ${DEFAULT-VALUE}).")
  Output output;

  @Mixin ScopeOptions scope;

  @Mixin SshTunnelOptions ssh;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ConnectionSettings settings;
    SetupRequest request;
    try {
      settings = Passwords.resolve(ConnectionSettings.parse(url), passwordFile, "PGPASSWORD", System.getenv());
      request = scope.request(SetupScripts.SCRIPT_OWNER);
    } catch (IllegalArgumentException e) {
      err.println("pgtrail check: " + e.getMessage());
      return CANNOT_CONNECT;
    }
    Optional<SshTunnelSettings> tunnelSettings = ssh.settings();
    PreflightReport report;
    try (SshTunnel tunnel = tunnelSettings.isPresent() ? SshTunnel.open(tunnelSettings.get(), settings) : null) {
      ConnectionSettings route = tunnel == null ? settings : tunnel.route(settings);
      if (tunnel != null) {
        tunnel.hostKey().filter(ServerHostKey::trustedOnFirstUse).ifPresent(key -> err.println(
            "pgtrail check: trusted the jump host key on first use; pin it with --ssh-host-key-fingerprint "
                + key.fingerprint()));
      }
      try (Connection c = PgConnections.open(route)) {
        report = Preflight.run(c, settings, request);
      }
    } catch (SshTunnelException e) {
      return cannotConnect(out, err, e.reason().camelCase(), e.getMessage());
    } catch (PgConnectException e) {
      return cannotConnect(out, err, e.reason().camelCase(), e.getMessage());
    }
    if (output == Output.json) {
      out.println(toJson(settings, report));
    } else {
      printText(out, settings, report);
    }
    out.flush();
    return report.ready() ? READY : NOT_READY;
  }

  private static void printText(PrintWriter out, ConnectionSettings settings, PreflightReport report) {
    out.println("pgtrail check " + settings.redacted() + " (PostgreSQL " + report.serverVersion() + ")");
    for (CheckResult c : report.checks()) {
      out.printf("%s %-24s %s%n", c.status().mark(), c.id().id(), c.observed());
      if (!c.fixIt().isEmpty()) {
        out.println("    fix: " + c.fixIt());
      }
    }
    out.println(report.ready()
        ? "ready for change data capture" + (report.warnings().isEmpty() ? "" : " (" + report.warnings().size() + " warning(s))")
        : "not ready: " + report.failed().size() + " check(s) failed");
  }

  private static String toJson(ConnectionSettings settings, PreflightReport report) throws Exception {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = json.createObjectNode();
    root.put("target", settings.redacted());
    root.put("serverVersion", report.serverVersion());
    root.put("ready", report.ready());
    ArrayNode checks = root.putArray("checks");
    for (CheckResult c : report.checks()) {
      ObjectNode node = checks.addObject();
      node.put("id", c.id().id());
      node.put("status", c.status().name().toLowerCase());
      node.put("observed", c.observed());
      node.put("fixIt", c.fixIt());
      if (c.status() == CheckStatus.FAILED) {
        node.put("reason", c.id().reason());
      }
    }
    return json.writeValueAsString(root);
  }

  private int cannotConnect(PrintWriter out, PrintWriter err, String reason, String message) {
    if (output == Output.json) {
      ObjectNode root = new ObjectMapper().createObjectNode();
      root.put("ready", false);
      root.put("reason", reason);
      root.put("error", message);
      out.println(root);
    }
    err.println("pgtrail check: " + message);
    return CANNOT_CONNECT;
  }
}
