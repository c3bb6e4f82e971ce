package io.pgtrail.worker.sink;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.TemporalAdjusters;
import java.util.Locale;

/** How much time one partition of {@code changes} covers; boundaries are at midnight UTC (weeks start on Monday). */
public enum PartitionPeriod {
  DAILY,
  WEEKLY,
  MONTHLY;

  public static PartitionPeriod parse(String value) {
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("partitionBy must be daily, weekly, monthly or none, got '" + value + "'");
    }
  }

  /** The start of the period that holds {@code t}. */
  public Instant start(Instant t) {
    LocalDate day = t.atZone(ZoneOffset.UTC).toLocalDate();
    LocalDate start = switch (this) {
      case DAILY -> day;
      case WEEKLY -> day.with(TemporalAdjusters.previousOrSame(DayOfWeek.MONDAY));
      case MONTHLY -> day.withDayOfMonth(1);
    };
    return start.atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  /** The first period boundary after {@code t}. */
  public Instant next(Instant t) {
    LocalDate start = start(t).atZone(ZoneOffset.UTC).toLocalDate();
    LocalDate next = switch (this) {
      case DAILY -> start.plusDays(1);
      case WEEKLY -> start.plusWeeks(1);
      case MONTHLY -> start.plusMonths(1);
    };
    return next.atStartOfDay(ZoneOffset.UTC).toInstant();
  }

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
