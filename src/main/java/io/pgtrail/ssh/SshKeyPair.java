package io.pgtrail.ssh;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.Iterator;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * The client identity of an SSH tunnel: a key pair plus the comment shown in its public key line.
 *
 * <p>{@link #generate(String)} makes a new ed25519 pair; {@link #privateKeyText()} is the OpenSSH
 * private key file ({@code -----BEGIN OPENSSH PRIVATE KEY-----}, unencrypted) to keep in a Secret,
 * and {@link #parse(String, String)} reads it (or any unencrypted OpenSSH/PEM RSA, ECDSA or ed25519
 * key) back. {@link #publicKeyLine()} is what users append to {@code ~/.ssh/authorized_keys}.
 *
 * <p>{@link #toString()} shows the type, fingerprint and comment only: never the private key.
 */
public final class SshKeyPair {
  private static final String KEY_RESOURCE_NAME = "pgtrail SSH private key";

  private final KeyPair keyPair;
  private final String comment;
  private final String privateKeyText;

  private SshKeyPair(KeyPair keyPair, String comment, String privateKeyText) {
    this.keyPair = keyPair;
    this.comment = requireSingleLine(comment);
    this.privateKeyText = privateKeyText == null ? encodePrivateKey(keyPair, this.comment) : privateKeyText;
  }

  /** The comment pgtrail puts on a source's key: {@code pgtrail/<namespace>/<name>}. */
  public static String comment(String namespace, String name) {
    return "pgtrail/" + namespace + "/" + name;
  }

  /** A new ed25519 key pair (BouncyCastle through Apache SSHD; the JDK's own keys do not work there). */
  public static SshKeyPair generate(String comment) {
    SshSecurity.requireEd25519();
    try {
      return new SshKeyPair(KeyUtils.generateKeyPair(KeyPairProvider.SSH_ED25519, 256), comment, null);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot generate an ed25519 key pair: " + e.getMessage(), e);
    }
  }

  /**
   * Reads an unencrypted private key (OpenSSH format as written by {@link #privateKeyText()} or
   * {@code ssh-keygen}, or a PEM key). The error message never repeats the key text.
   *
   * @param comment the comment for {@link #publicKeyLine()} ("" for none)
   */
  public static SshKeyPair parse(String privateKeyText, String comment) {
    if (privateKeyText == null || privateKeyText.isBlank()) {
      throw new IllegalArgumentException("the SSH private key is empty");
    }
    SshSecurity.requireEd25519();
    Iterable<KeyPair> identities;
    try {
      identities = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(KEY_RESOURCE_NAME),
          new ByteArrayInputStream(privateKeyText.strip().getBytes(StandardCharsets.UTF_8)),
          (session, resource, retryIndex) -> {
            throw new IOException("passphrase-protected key");
          });
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException("the SSH private key cannot be read (expected an unencrypted "
          + "OpenSSH or PEM private key): " + safeReason(e));
    }
    Iterator<KeyPair> keys = identities == null ? null : identities.iterator();
    if (keys == null || !keys.hasNext()) {
      throw new IllegalArgumentException("the SSH private key text holds no key (expected -----BEGIN "
          + "OPENSSH PRIVATE KEY----- ... -----END OPENSSH PRIVATE KEY-----)");
    }
    return new SshKeyPair(keys.next(), comment, privateKeyText.strip() + "\n");
  }

  // Exception messages from key parsers may quote input; only the exception type and a known
  // passphrase hint leave this class.
  private static String safeReason(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if ("passphrase-protected key".equals(t.getMessage())) {
        return "it is protected by a passphrase, which pgtrail does not support";
      }
    }
    return e.getClass().getSimpleName();
  }

  /**
   * The private key file text, unencrypted: OpenSSH format for a generated pair, the text it was
   * read from for a parsed one. Stable for the life of this object (the OpenSSH encoding carries a
   * random check value, so encoding twice would give two different texts). Treat it as a secret.
   */
  public String privateKeyText() {
    return privateKeyText;
  }

  private static String encodePrivateKey(KeyPair keyPair, String comment) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(keyPair, comment, null, out);
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot encode the " + KeyUtils.getKeyType(keyPair.getPublic())
          + " private key", e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** {@code ssh-ed25519 AAAA... comment}: one line for {@code authorized_keys}. */
  public String publicKeyLine() {
    String entry = PublicKeyEntry.toString(keyPair.getPublic());
    return comment.isEmpty() ? entry : entry + " " + comment;
  }

  /** {@code SHA256:...} as printed by {@code ssh-keygen -l}. */
  public String fingerprint() {
    return fingerprint(keyPair.getPublic());
  }

  /** {@code ssh-ed25519}, {@code ssh-rsa}, {@code ecdsa-sha2-nistp256}, ... */
  public String keyType() {
    return KeyUtils.getKeyType(keyPair.getPublic());
  }

  public String comment() {
    return comment;
  }

  public PublicKey publicKey() {
    return keyPair.getPublic();
  }

  /** The pair for Apache SSHD's public-key authentication; package-private on purpose. */
  KeyPair keyPair() {
    return keyPair;
  }

  /** The SHA256 fingerprint of any public key, OpenSSH style ({@code SHA256:<base64 without padding>}). */
  static String fingerprint(PublicKey key) {
    return KeyUtils.getFingerPrint(key);
  }

  private static String requireSingleLine(String comment) {
    String c = comment == null ? "" : comment.strip();
    if (c.contains("\n") || c.contains("\r")) {
      throw new IllegalArgumentException("an SSH key comment must be a single line");
    }
    return c;
  }

  @Override
  public String toString() {
    return "SshKeyPair[" + keyType() + " " + fingerprint() + (comment.isEmpty() ? "" : " " + comment) + "]";
  }
}
