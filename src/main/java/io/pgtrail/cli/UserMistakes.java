package io.pgtrail.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine;

/**
 * How the command line answers a user's mistake: one line naming what is wrong and where, exit 2,
 * never a stack trace. Usage errors add one hint line instead of the whole help.
 * Anything else is a bug and keeps picocli's default (stack trace, exit 1).
 */
public final class UserMistakes implements IParameterExceptionHandler, IExecutionExceptionHandler {
  /** The exit code of every user mistake: wrong usage, unreadable file, bad URL, unreachable server. */
  public static final int EXIT_CODE = 2;

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine command = ex.getCommandLine();
    PrintWriter err = command.getErr();
    err.println(prefix(command) + firstLine(ex.getMessage()));
    err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for usage and exit codes.");
    err.flush();
    return EXIT_CODE;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine command, ParseResult parseResult) throws Exception {
    Optional<String> mistake = describe(ex);
    if (mistake.isEmpty()) {
      throw ex;
    }
    command.getErr().println(prefix(command) + mistake.get());
    command.getErr().flush();
    return EXIT_CODE;
  }

  /** One line for a mistake the user can fix, or empty when the exception is not one. */
  public static Optional<String> describe(Throwable thrown) {
    for (Throwable t = thrown; t != null; t = t.getCause()) {
      if (t instanceof NoSuchFileException e) {
        return Optional.of("cannot read " + e.getFile() + ": no such file");
      }
      if (t instanceof AccessDeniedException e) {
        return Optional.of("cannot read " + e.getFile() + ": permission denied");
      }
      if (t instanceof FileSystemException e) {
        return Optional.of("cannot read " + e.getFile() + ": " + firstLine(e.getReason()));
      }
      if (t instanceof IllegalArgumentException e && e.getMessage() != null) {
        return Optional.of(firstLine(e.getMessage()));
      }
    }
    return Optional.empty();
  }

  static String prefix(CommandLine command) {
    return command.getCommandSpec().qualifiedName() + ": ";
  }

  static String firstLine(String message) {
    if (message == null || message.isBlank()) {
      return "invalid input";
    }
    String trimmed = message.strip();
    int newline = trimmed.indexOf('\n');
    return (newline < 0 ? trimmed : trimmed.substring(0, newline)).strip();
  }
}
