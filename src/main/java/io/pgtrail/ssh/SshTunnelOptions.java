package io.pgtrail.ssh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The SSH tunnel flags shared by {@code pgtrail check} and {@code pgtrail worker}: add
 * {@code @Mixin SshTunnelOptions ssh;} to a command and call {@link #settings()}.
 *
 * <pre>
 *   --ssh-host jump.example.com --ssh-user pgtrail --ssh-key-file ~/.ssh/id_pgtrail
 *   --ssh-host-key-fingerprint SHA256:...   (or --ssh-known-hosts-file, or --ssh-host-key-policy acceptNew)
 * </pre>
 *
 * Without {@code --ssh-host} there is no tunnel; any other {@code --ssh-*} flag then is an error.
 */
public final class SshTunnelOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--ssh-host", paramLabel = "HOST",
      description = "SSH jump host: connect to the database through a tunnel via this host.")
  String host;

  @Option(names = "--ssh-port", paramLabel = "PORT", defaultValue = "22",
      description = "SSH port of the jump host (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--ssh-user", paramLabel = "USER", description = "SSH login on the jump host.")
  String user;

  @Option(names = "--ssh-key-file", paramLabel = "FILE",
      description = "Private key file (OpenSSH or PEM, unencrypted) whose public key is in the jump host's authorized_keys.")
  Path keyFile;

  @Option(names = "--ssh-known-hosts-file", paramLabel = "FILE",
      description = "known_hosts lines (or bare public key lines) that pin the jump host key.")
  Path knownHostsFile;

  @Option(names = "--ssh-host-key-fingerprint", paramLabel = "SHA256:...",
      description = "SHA256 fingerprint of the jump host key (ssh-keygen -lf), instead of or besides a known_hosts file.")
  String hostKeyFingerprint;

  @Option(names = "--ssh-host-key-policy", paramLabel = "POLICY", defaultValue = "strict",
      converter = PolicyConverter.class,
      description = "strict (default): refuse a jump host key that is not pinned; acceptNew: trust it on first use and print it.")
  HostKeyPolicy hostKeyPolicy;

  /**
   * The tunnel settings, reading the key and known hosts files; empty without {@code --ssh-host}.
   *
   * @throws CommandLine.ParameterException (IllegalArgumentException outside picocli) for missing
   *     or unreadable input
   */
  public Optional<SshTunnelSettings> settings() {
    if (host == null || host.isBlank()) {
      if (user != null || keyFile != null || knownHostsFile != null || hostKeyFingerprint != null) {
        throw invalid("--ssh-user, --ssh-key-file, --ssh-known-hosts-file and --ssh-host-key-fingerprint "
            + "need --ssh-host");
      }
      return Optional.empty();
    }
    if (user == null || user.isBlank()) {
      throw invalid("--ssh-host needs --ssh-user");
    }
    if (keyFile == null) {
      throw invalid("--ssh-host needs --ssh-key-file (the private key whose public key is in authorized_keys)");
    }
    try {
      String privateKey = read(keyFile, "--ssh-key-file");
      checkPrivateKey(privateKey);
      String knownHosts = knownHostsFile == null ? null : read(knownHostsFile, "--ssh-known-hosts-file");
      SshTunnelSettings settings = new SshTunnelSettings(host, port, user, privateKey, knownHosts,
          hostKeyFingerprint, hostKeyPolicy);
      HostKeyTrust.of(settings);
      return Optional.of(settings);
    } catch (IllegalArgumentException e) {
      throw invalid(e.getMessage());
    }
  }

  private void checkPrivateKey(String privateKey) {
    try {
      SshKeyPair.parse(privateKey, "");
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--ssh-key-file " + keyFile + ": " + e.getMessage());
    }
  }

  private static String unreadable(IOException e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : "I/O error";
  }

  private static String read(Path file, String option) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException(option + " " + file + " cannot be read (" + unreadable(e) + ")");
    }
  }

  private RuntimeException invalid(String message) {
    return mixee == null
        ? new IllegalArgumentException(message)
        : new CommandLine.ParameterException(mixee.commandLine(), message);
  }

  static final class PolicyConverter implements CommandLine.ITypeConverter<HostKeyPolicy> {
    @Override
    public HostKeyPolicy convert(String value) {
      try {
        return HostKeyPolicy.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
