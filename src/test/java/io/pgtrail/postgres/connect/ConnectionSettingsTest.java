package io.pgtrail.postgres.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnectionSettingsTest {
  @Test
  void parsesLibpqUrlWithOptions() {
    ConnectionSettings s = ConnectionSettings.parse(
        "postgresql://app@db.example.com:6000/shop?sslmode=verify-full&sslrootcert=/ca.crt&connect_timeout=3");
    assertThat(s.host()).isEqualTo("db.example.com");
    assertThat(s.port()).isEqualTo(6000);
    assertThat(s.database()).isEqualTo("shop");
    assertThat(s.user()).isEqualTo("app");
    assertThat(s.sslMode()).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(s.sslRootCert()).isEqualTo("/ca.crt");
    assertThat(s.connectTimeoutSeconds()).isEqualTo(3);
    assertThat(s.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example.com:6000/shop");
    assertThat(s.jdbcProperties()).containsEntry("sslmode", "verify-full").containsEntry("connectTimeout", "3");
  }

  @Test
  void defaultsPortAndKeepsEncodedNames() {
    ConnectionSettings s = ConnectionSettings.parse("postgres://us%40er@[::1]/my%20db");
    assertThat(s.port()).isEqualTo(5432);
    assertThat(s.host()).isEqualTo("::1");
    assertThat(s.user()).isEqualTo("us@er");
    assertThat(s.database()).isEqualTo("my db");
    assertThat(s.sslMode()).isEqualTo(SslMode.PREFER);
  }

  @Test
  void passwordInUrlNeverShowsInTextForms() {
    ConnectionSettings s = ConnectionSettings.parse("postgresql://app:s3cr%21t@h:5432/d");
    assertThat(s.password()).isEqualTo("s3cr!t");
    assertThat(s.toString()).doesNotContain("s3cr").isEqualTo("postgresql://app@h:5432/d?sslmode=prefer");
    assertThat(s.redacted()).doesNotContain("s3cr");
    assertThat(s.jdbcUrl()).doesNotContain("s3cr");
  }

  @Test
  void replicationPropertiesUseSimpleQueryMode() {
    ConnectionSettings s = ConnectionSettings.parse("postgresql://app@h/d");
    assertThat(s.replicationProperties())
        .containsEntry("replication", "database")
        .containsEntry("preferQueryMode", "simple");
  }

  @Test
  void rejectsMalformedUrlsWithoutEchoingThem() {
    assertThatThrownBy(() -> ConnectionSettings.parse("mysql://u:hunter2@h/d"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> ConnectionSettings.parse("postgresql://u:hunter2@h"))
        .hasMessageContaining("no database").hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> ConnectionSettings.parse("postgresql://u@h/d?sslmode=sometimes"))
        .hasMessageContaining("unknown sslmode");
    assertThatThrownBy(() -> ConnectionSettings.parse("postgresql://u@h/d?host=x"))
        .hasMessageContaining("unsupported connection option");
  }

  @Test
  void sslModeAcceptsCamelCaseAndLibpqSpelling() {
    assertThat(SslMode.fromLibpq("verifyFull")).isEqualTo(SslMode.VERIFY_FULL);
    assertThat(SslMode.fromLibpq("verify-ca")).isEqualTo(SslMode.VERIFY_CA);
    assertThat(SslMode.fromLibpq("DISABLE")).isEqualTo(SslMode.DISABLE);
  }

  @Test
  void passwordFromFileWinsOverEnvironmentAndDropsTrailingNewline(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pw");
    Files.writeString(file, "from-file\n");
    ConnectionSettings base = ConnectionSettings.parse("postgresql://u@h/d");
    assertThat(Passwords.resolve(base, file, "PGPASSWORD", Map.of("PGPASSWORD", "env")).password()).isEqualTo("from-file");
    assertThat(Passwords.resolve(base, null, "PGPASSWORD", Map.of("PGPASSWORD", "env")).password()).isEqualTo("env");
    assertThat(Passwords.resolve(base, null, "PGPASSWORD", Map.of()).password()).isNull();
  }
}
