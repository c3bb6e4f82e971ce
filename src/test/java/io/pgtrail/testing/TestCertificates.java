package io.pgtrail.testing;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;

/**
 * Self-signed server certificates for TLS tests, made with the JDK's keytool (no openssl needed) and
 * written as PEM files that PostgreSQL reads.
 */
public final class TestCertificates {
  /** A certificate (PEM) and the files PostgreSQL serves it from. */
  public record ServerCertificate(String certificatePem, Path certificateFile, Path keyFile) {}

  private TestCertificates() {}

  public static ServerCertificate selfSigned(Path directory, String name, String subjectAltName) throws Exception {
    Files.createDirectories(directory);
    Path store = directory.resolve(name + ".p12");
    String password = "changeit";
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", name, "-keyalg", "EC",
        "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=" + name, "-ext",
        "SAN=" + subjectAltName, "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
        "-storepass", password, "-keypass", password))
        .redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    if (p.waitFor() != 0) {
      throw new IOException("keytool failed: " + out);
    }
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      ks.load(in, password.toCharArray());
    }
    Certificate cert = ks.getCertificate(name);
    PrivateKey key = (PrivateKey) ks.getKey(name, password.toCharArray());
    String certPem = pem("CERTIFICATE", cert.getEncoded());
    Path certFile = directory.resolve(name + ".crt");
    Path keyFile = directory.resolve(name + ".key");
    Files.writeString(certFile, certPem);
    Files.writeString(keyFile, pem("PRIVATE KEY", key.getEncoded()));
    Files.setPosixFilePermissions(keyFile, PosixFilePermissions.fromString("rw-------"));
    return new ServerCertificate(certPem, certFile, keyFile);
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
        .encodeToString(der) + "\n-----END " + type + "-----\n";
  }
}
