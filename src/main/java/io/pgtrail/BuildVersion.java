package io.pgtrail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The version this build carries: the Maven project version and the git commit it was built from,
 * both written into {@code io/pgtrail/version.properties} by the build.
 */
public record BuildVersion(String version, String commit) {
  private static final String RESOURCE = "version.properties";
  private static final BuildVersion CURRENT = load();

  public static BuildVersion current() {
    return CURRENT;
  }

  /** {@code pgtrail 0.1.0 (commit 0123456789ab)}, or without the commit when it is not known. */
  public String describe() {
    return "pgtrail " + version + (commit.isEmpty() ? "" : " (commit " + commit + ")");
  }

  private static BuildVersion load() {
    Properties properties = new Properties();
    try (InputStream in = BuildVersion.class.getResourceAsStream(RESOURCE)) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new BuildVersion(resolved(properties.getProperty("version"), "development"),
        resolved(properties.getProperty("commit"), ""));
  }

  /** A placeholder the build could not fill (no git checkout, or an IDE build) means unknown. */
  private static String resolved(String value, String unknown) {
    return value == null || value.isBlank() || value.startsWith("${") ? unknown : value.trim();
  }
}
