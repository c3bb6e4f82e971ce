/**
 * SSH tunnels through a jump host for sources in private networks (Apache SSHD + BouncyCastle).
 * Knows nothing of Kubernetes.
 *
 * <ul>
 *   <li>{@link io.pgtrail.ssh.SshKeyPair}: generate an ed25519 client key, its OpenSSH private key
 *       text (for a Secret), public key line ({@code ssh-ed25519 AAAA... pgtrail/<ns>/<name>}) and
 *       SHA256 fingerprint; read a stored key back.
 *   <li>{@link io.pgtrail.ssh.SshTunnelSettings}: jump host, port, user, private key text, known
 *       hosts text, fingerprint(s), {@link io.pgtrail.ssh.HostKeyPolicy}; filled from CLI flags by
 *       {@link io.pgtrail.ssh.SshTunnelOptions}, from YAML by Jackson, or by the operator.
 *   <li>{@link io.pgtrail.ssh.HostKeyTrust}: which jump host keys are trusted (pure decisions).
 *   <li>{@link io.pgtrail.ssh.SshTunnel}: a self-healing local forward {@code 127.0.0.1:<port> ->
 *       database}; {@link io.pgtrail.ssh.SshTunnel#route} points {@code ConnectionSettings} at it.
 *   <li>{@link io.pgtrail.ssh.SshTunnels}: tunnels by id, reused across reconciles.
 *   <li>{@code SharedSshClient}: the one Apache SSHD client all tunnels open their sessions on, started
 *       with the first tunnel and stopped with the last; each session carries its tunnel's own settings.
 *   <li>{@link io.pgtrail.ssh.SshTunnelException}: failures with a condition reason
 *       ({@code HostKeyMismatch}, {@code SshAuthFailed}, {@code SshUnreachable},
 *       {@code SshForwardingFailed}, {@code SshFailed}).
 * </ul>
 *
 * Nothing here logs, prints or puts into an exception message any private key material.
 */
package io.pgtrail.ssh;
