package io.pgtrail;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The single entry point: {@code java -jar pgtrail.jar <subcommand>}. */
@Command(
    name = "pgtrail",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Automatic audit trail (change data capture) for PostgreSQL.",
    subcommands = {
        CommandLine.HelpCommand.class,
        io.pgtrail.cli.CheckCommand.class,
        io.pgtrail.cli.SqlCommand.class,
        io.pgtrail.cli.StoreCommand.class,
        io.pgtrail.worker.WorkerCommand.class,
        io.pgtrail.worker.bench.BenchCommand.class,
        io.pgtrail.operator.OperatorCommand.class,
        io.pgtrail.demo.DemoCommand.class,
    })
public final class Main implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs a command line and returns its exit code (for tests and for {@link #main}). */
  public static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The configured command line, for callers that redirect its output. */
  public static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"pgtrail " + (v == null ? "development" : v)};
    }
  }
}
