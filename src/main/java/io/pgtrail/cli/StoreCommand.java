package io.pgtrail.cli;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.postgres.connect.Passwords;
import io.pgtrail.postgres.connect.PgConnectException;
import io.pgtrail.postgres.connect.PgConnections;
import io.pgtrail.worker.sink.PartitionPeriod;
import io.pgtrail.worker.store.StoreConversion;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code pgtrail store}: operations on the destination's audit store (docs/store.md). */
@Command(name = "store", mixinStandardHelpOptions = true,
    description = "Operations on the destination's changes table (see docs/store.md).",
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:help printed (name a subcommand: convert)", "2:wrong usage"},
    subcommands = StoreCommand.Convert.class)
public final class StoreCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code pgtrail store convert}: an unpartitioned changes table becomes a partitioned one, row for row. */
  @Command(name = "convert", mixinStandardHelpOptions = true,
      description = "Convert an unpartitioned changes table into a partitioned one without losing rows, while the"
          + " worker keeps writing; run it again to resume.",
      exitCodeListHeading = "%nExit codes:%n",
      exitCodeList = {"0:converted (or nothing to convert)", "1:rows are still missing: run again",
          "2:cannot connect or the conversion failed"})
  static final class Convert implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--url", required = true, paramLabel = "URL",
        description = "The destination: postgresql://USER@HOST:PORT/DB; the password comes from --password-file or"
            + " PGPASSWORD.")
    String url;

    @Option(names = "--password-file", paramLabel = "FILE", description = "File holding the password.")
    Path passwordFile;

    @Option(names = "--partition-by", defaultValue = "weekly", paramLabel = "PERIOD",
        description = "daily, weekly or monthly (default: ${DEFAULT-VALUE}); use the worker's store.partitionBy.")
    String partitionBy;

    @Option(names = "--batch-rows", defaultValue = "50000", paramLabel = "N",
        description = "Rows copied per transaction (default: ${DEFAULT-VALUE}).")
    int batchRows;

    @Option(names = "--drop-old", description = "Drop " + StoreConversion.OLD + " once every row is verified in"
        + " changes (default: keep it).")
    boolean dropOld;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      PartitionPeriod period;
      ConnectionSettings settings;
      try {
        period = PartitionPeriod.parse(partitionBy);
        settings = Passwords.resolve(ConnectionSettings.parse(url), passwordFile, "PGPASSWORD", System.getenv());
      } catch (IllegalArgumentException e) {
        err.println("pgtrail store convert: " + e.getMessage());
        return 2;
      } catch (java.io.IOException e) {
        err.println("pgtrail store convert: cannot read the password file: " + e.getClass().getSimpleName());
        return 2;
      }
      try (Connection c = PgConnections.open(settings)) {
        StoreConversion.Result result = StoreConversion.convert(c, period, 2, Math.max(1, batchRows), dropOld,
            Instant.now(), out);
        out.flush();
        return result.missing() == 0 ? 0 : 1;
      } catch (PgConnectException e) {
        err.println("pgtrail store convert: " + e.getMessage());
        return 2;
      } catch (SQLException e) {
        err.println("pgtrail store convert failed (" + e.getSQLState() + "): " + e.getMessage()
            + "\nNothing is lost: run it again to resume.");
        return 2;
      }
    }
  }
}
