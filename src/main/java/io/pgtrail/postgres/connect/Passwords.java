package io.pgtrail.postgres.connect;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Where a password comes from when it is not in the URL: a file, or an environment variable. */
public final class Passwords {
  private Passwords() {}

  /**
   * The password from {@code passwordFile} if given, else from the environment variable {@code envName}
   * (typically PGPASSWORD), else the one already in {@code settings}.
   */
  public static ConnectionSettings resolve(ConnectionSettings settings, Path passwordFile, String envName,
      Map<String, String> env) throws IOException {
    if (passwordFile != null) {
      return settings.withPassword(readPasswordFile(passwordFile));
    }
    if (envName != null && env.get(envName) != null) {
      return settings.withPassword(env.get(envName));
    }
    return settings;
  }

  /** The file's content without one trailing newline, as Kubernetes Secret volumes and editors leave it. */
  public static String readPasswordFile(Path file) throws IOException {
    if (Files.isDirectory(file)) {
      throw new FileSystemException(file.toString(), null, "is a directory, not a password file");
    }
    String content = Files.readString(file, StandardCharsets.UTF_8);
    if (content.endsWith("\r\n")) {
      return content.substring(0, content.length() - 2);
    }
    if (content.endsWith("\n")) {
      return content.substring(0, content.length() - 1);
    }
    return content;
  }
}
