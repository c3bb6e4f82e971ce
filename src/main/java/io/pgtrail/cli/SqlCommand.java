package io.pgtrail.cli;

import io.pgtrail.postgres.catalog.Identifiers;
import io.pgtrail.postgres.plan.SetupScripts;
import io.pgtrail.postgres.plan.TeardownRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pgtrail sql setup|teardown}: the plan as a reviewed, re-runnable SQL script. */
@Command(name = "sql", mixinStandardHelpOptions = true,
    description = "Print the setup or teardown as commented SQL to review and run with psql (safe to run twice).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:script printed", "2:wrong usage (unknown provider, invalid name)"})
public final class SqlCommand implements Callable<Integer> {
  enum Plan { setup, teardown }

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "setup|teardown", description = "Which script to print.")
  Plan plan;

  @Mixin ScopeOptions scope;

  @Option(names = "--role", paramLabel = "NAME",
      description = "setup: also create this least-privilege replication role (per provider).")
  String role;

  @Option(names = "--drop", description = "teardown: also drop the slot and publication, and restore REPLICA IDENTITY.")
  boolean drop;

  @Override
  public Integer call() {
    try {
      String script = switch (plan) {
        case setup -> {
          if (role != null) {
            Identifiers.quote(role);
          }
          yield SetupScripts.setup(scope.request(SetupScripts.SCRIPT_OWNER), role);
        }
        case teardown -> SetupScripts.teardown(
            new TeardownRequest(scope.publication, scope.slot, SetupScripts.SCRIPT_OWNER, drop));
      };
      spec.commandLine().getOut().print(script);
      spec.commandLine().getOut().flush();
      return 0;
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("pgtrail sql: " + e.getMessage());
      return 2;
    }
  }
}
