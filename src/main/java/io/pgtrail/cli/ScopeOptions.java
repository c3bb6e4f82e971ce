package io.pgtrail.cli;

import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.postgres.catalog.TrackingScope;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.postgres.plan.SetupRequest;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The tracking options shared by {@code check} and {@code sql}. */
final class ScopeOptions {
  @Option(names = "--provider", defaultValue = "selfManaged", paramLabel = "PROVIDER",
      description = "Hosting provider: selfManaged, awsRds, gcpCloudSql, supabase, neon, render, digitalOcean, azure,"
          + " timescale (default: ${DEFAULT-VALUE}).")
  String provider;

  @Option(names = "--publication", defaultValue = "pgtrail", paramLabel = "NAME",
      description = "Publication name, [a-z0-9_]{1,63} (default: ${DEFAULT-VALUE}).")
  String publication;

  @Option(names = "--slot", defaultValue = "pgtrail", paramLabel = "NAME",
      description = "Replication slot name, [a-z0-9_]{1,63} (default: ${DEFAULT-VALUE}).")
  String slot;

  @Option(names = "--schemas", split = ",", paramLabel = "SCHEMA",
      description = "Track every table of these schemas (default: public, unless --tables or --all-tables).")
  List<String> schemas = new ArrayList<>();

  @Option(names = "--tables", split = ",", paramLabel = "SCHEMA.TABLE",
      description = "Track these tables (quote parts with dots: '\"a.b\".t').")
  List<String> tables = new ArrayList<>();

  @Option(names = "--exclude-tables", split = ",", paramLabel = "SCHEMA.TABLE", description = "Do not track these tables.")
  List<String> excludeTables = new ArrayList<>();

  @Option(names = "--all-tables", description = "Track every table of the database (needs a superuser).")
  boolean allTables;

  @Option(names = "--track-new-tables", description = "Also track tables created later in the tracked schemas.")
  boolean trackNewTables;

  @Option(names = "--context-triggers",
      description = "Install Bemi's context triggers: /*Bemi {json} Bemi*/ SQL comments become change context.")
  boolean contextTriggers;

  @Option(names = "--failover-slot", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Create the slot with failover on PostgreSQL 17+, so synchronized standbys keep it"
          + " (default: on; --no-failover-slot turns it off).")
  boolean failoverSlot = true;

  TrackingScope scope() {
    return new TrackingScope(schemas, parse(tables), parse(excludeTables), allTables);
  }

  private static List<QualifiedName> parse(List<String> names) {
    return names.stream().map(n -> QualifiedName.parse(n, TrackingScope.DEFAULT_SCHEMA)).toList();
  }

  SetupRequest request(String ownerId) {
    return new SetupRequest(publication, slot, Provider.fromId(provider), scope(), trackNewTables, contextTriggers,
        ownerId, null).withFailoverSlot(failoverSlot);
  }
}
