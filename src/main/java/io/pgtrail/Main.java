package io.pgtrail;

import io.pgtrail.cli.CheckCommand;
import io.pgtrail.cli.SqlCommand;
import io.pgtrail.cli.StoreCommand;
import io.pgtrail.cli.UserMistakes;
import io.pgtrail.operator.OperatorCommand;
import io.pgtrail.worker.WorkerCommand;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The single entry point: {@code java -jar pgtrail.jar <subcommand>}. */
@Command(
    name = "pgtrail",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Automatic audit trail (change data capture) for PostgreSQL.",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:done", "1:failed while running", "2:wrong usage or a user mistake (file, URL, server)"},
    subcommands = {
        CommandLine.HelpCommand.class,
        CheckCommand.class,
        SqlCommand.class,
        StoreCommand.class,
        WorkerCommand.class,
        OperatorCommand.class,
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

  /**
   * Tool-only subcommands: present in target/pgtrail.jar, left out of the production runtime jar
   * (and so of the image), which carries no embedded PostgreSQL and no mock API server.
   */
  static final List<String> TOOL_COMMANDS = List.of(
      "io.pgtrail.worker.bench.BenchCommand",
      "io.pgtrail.demo.DemoCommand");

  /** The configured command line, for callers that redirect its output. */
  public static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Main());
    for (String className : TOOL_COMMANDS) {
      toolCommand(className).ifPresent(commandLine::addSubcommand);
    }
    giveEveryCommandTheVersion(commandLine);
    // set after every subcommand is added: picocli applies these to the hierarchy as it is now
    UserMistakes mistakes = new UserMistakes();
    return commandLine.setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(mistakes)
        .setExecutionExceptionHandler(mistakes);
  }

  /** {@code pgtrail <any command> --version} prints the build's version, not an empty line. */
  private static void giveEveryCommandTheVersion(CommandLine commandLine) {
    commandLine.getCommandSpec().versionProvider(new Version());
    commandLine.getSubcommands().values().forEach(Main::giveEveryCommandTheVersion);
  }

  private static Optional<Class<?>> toolCommand(String className) {
    try {
      return Optional.of(Class.forName(className, false, Main.class.getClassLoader()));
    } catch (ClassNotFoundException | LinkageError absentFromThisArtifact) {
      return Optional.empty();
    }
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {BuildVersion.current().describe()};
    }
  }
}
