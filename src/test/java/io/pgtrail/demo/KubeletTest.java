package io.pgtrail.demo;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KubeletTest {
  @Test
  void pathsInsideVolumesMoveUnderThePodDirectoryAndNothingElseChanges() throws Exception {
    Map<String, Path> mounts = new LinkedHashMap<>();
    mounts.put("/tmp", Path.of("/tmp/pgtrail-demo-1/pod-2/tmp"));
    mounts.put("/etc/pgtrail/source", Path.of("/tmp/pgtrail-demo-1/pod-2/etc/pgtrail/source"));
    mounts.put("/etc/pgtrail/ssh", Path.of("/tmp/pgtrail-demo-1/pod-2/etc/pgtrail/ssh"));
    String yaml = String.join("\n",
        "source:",
        "  url: postgresql://app@db:5432/shop?sslmode=verify-ca&sslrootcert=/etc/pgtrail/source/ca.crt",
        "  passwordFile: /etc/pgtrail/source/password",
        "slot: pgtrail_demo_shop",
        "ignoreColumns: [/etc/pgtrail/sourcefoo, customers.last_login_at]",
        "sshTunnel:",
        "  privateKeyFile: /etc/pgtrail/ssh/id_ed25519",
        "  port: 22",
        "");

    JsonNode rerooted = new ObjectMapper(new YAMLFactory()).readTree(Kubelet.rerooted(yaml, mounts));

    assertThat(rerooted.at("/source/url").asText())
        .isEqualTo("postgresql://app@db:5432/shop?sslmode=verify-ca&sslrootcert=/tmp/pgtrail-demo-1/pod-2/etc/pgtrail/source/ca.crt");
    assertThat(rerooted.at("/source/passwordFile").asText())
        .isEqualTo("/tmp/pgtrail-demo-1/pod-2/etc/pgtrail/source/password");
    assertThat(rerooted.at("/sshTunnel/privateKeyFile").asText())
        .isEqualTo("/tmp/pgtrail-demo-1/pod-2/etc/pgtrail/ssh/id_ed25519");
    // a path that only starts like a mount, and values that are no paths, stay as they are
    assertThat(rerooted.at("/ignoreColumns/0").asText()).isEqualTo("/etc/pgtrail/sourcefoo");
    assertThat(rerooted.at("/ignoreColumns/1").asText()).isEqualTo("customers.last_login_at");
    assertThat(rerooted.at("/slot").asText()).isEqualTo("pgtrail_demo_shop");
    assertThat(rerooted.at("/sshTunnel/port").asInt()).isEqualTo(22);
  }
}
