package io.pgtrail.postgres.plan;

import io.pgtrail.postgres.catalog.Identifiers;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Names of the database objects pgtrail creates for one publication, always within 63 bytes. */
public record ManagedNames(String procedure, String function, String eventTrigger) {
  private static final String PREFIX = "_pgtrail_ri_";

  public static ManagedNames forPublication(String publication) {
    String base = PREFIX + publication;
    int longestSuffix = "_trigger".length();
    if (base.length() + longestSuffix > Identifiers.MAX_IDENTIFIER_BYTES) {
      String hash = shortHash(publication);
      base = base.substring(0, Identifiers.MAX_IDENTIFIER_BYTES - longestSuffix - hash.length() - 1) + "_" + hash;
    }
    return new ManagedNames(base, base + "_func", base + "_trigger");
  }

  private static String shortHash(String s) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
