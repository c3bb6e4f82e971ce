package io.pgtrail.testing;

import io.pgtrail.postgres.connect.ConnectionSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs a SQL script the way psql does: statement by statement, each in its own transaction. */
public final class SqlScript {
  private static final Pattern DOLLAR_TAG = Pattern.compile("\\$[A-Za-z_]*\\$");

  private SqlScript() {}

  public static void run(ConnectionSettings db, String script) {
    for (String statement : split(script)) {
      Db.execute(db, statement);
    }
  }

  /** Splits on semicolons outside quotes, dollar quotes and -- comments. */
  public static List<String> split(String script) {
    List<String> statements = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    int i = 0;
    while (i < script.length()) {
      char c = script.charAt(i);
      if (c == '-' && script.startsWith("--", i)) {
        int end = script.indexOf('\n', i);
        i = end < 0 ? script.length() : end + 1;
        continue;
      }
      if (c == '\'') {
        int end = i + 1;
        while (end < script.length()) {
          if (script.charAt(end) == '\'') {
            if (end + 1 < script.length() && script.charAt(end + 1) == '\'') {
              end += 2;
              continue;
            }
            break;
          }
          end++;
        }
        current.append(script, i, end + 1);
        i = end + 1;
        continue;
      }
      if (c == '$') {
        Matcher m = DOLLAR_TAG.matcher(script).region(i, script.length());
        if (m.lookingAt()) {
          String tag = m.group();
          int end = script.indexOf(tag, i + tag.length());
          current.append(script, i, end + tag.length());
          i = end + tag.length();
          continue;
        }
      }
      if (c == ';') {
        if (!current.toString().isBlank()) {
          statements.add(current.toString().trim());
        }
        current.setLength(0);
        i++;
        continue;
      }
      current.append(c);
      i++;
    }
    if (!current.toString().isBlank()) {
      statements.add(current.toString().trim());
    }
    return statements;
  }
}
