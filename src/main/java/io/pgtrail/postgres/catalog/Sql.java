package io.pgtrail.postgres.catalog;

import java.util.List;

/** A statement with bound parameters. */
public record Sql(String text, List<String> params) {
  public Sql {
    params = List.copyOf(params);
  }

  /** The statement with parameters inlined as literals: for scripts a person reads and runs. */
  public String inline() {
    String out = text;
    for (String p : params) {
      int at = out.indexOf('?');
      out = out.substring(0, at) + Identifiers.literal(p) + out.substring(at + 1);
    }
    return out;
  }
}
