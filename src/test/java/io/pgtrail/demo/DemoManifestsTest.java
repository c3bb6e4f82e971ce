package io.pgtrail.demo;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.pgtrail.postgres.connect.ConnectionSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The demo applies k8s-examples/demo/ from the classpath: all of it, unchanged, then fills in its databases. */
class DemoManifestsTest {
  static final Path DIRECTORY = Path.of("k8s-examples/demo");

  @Test
  void theDemoAppliesEveryFileOfTheDirectory() throws IOException {
    try (Stream<Path> files = Files.list(DIRECTORY)) {
      assertThat(files.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrderElementsOf(DemoManifests.FILES);
    }
  }

  @Test
  void thePackagedCopiesAreTheFilesOfTheDirectory() throws IOException {
    for (String file : DemoManifests.FILES) {
      try (InputStream in = getClass().getClassLoader().getResourceAsStream(DemoManifests.RESOURCE_DIR + file)) {
        assertThat(in).as("%s on the classpath", file).isNotNull();
        assertThat(new String(in.readAllBytes())).as(file).isEqualTo(Files.readString(DIRECTORY.resolve(file)));
      }
    }
  }

  @Test
  void theManifestsDescribeTheShopWithAnIgnoredColumnAndContextCapture() {
    DemoManifests manifests = DemoManifests.load();
    assertThat(manifests.source.getMetadata().getName()).isEqualTo("shop");
    assertThat(manifests.policies).singleElement().satisfies(p -> {
      assertThat(p.getSpec().sourceRef.name).isEqualTo("shop");
      assertThat(p.getSpec().schemas).containsExactly(ShopDatabase.SCHEMA);
      assertThat(p.getSpec().ignoreColumns).containsExactly(ShopDatabase.IGNORED_COLUMN);
      assertThat(p.getSpec().captureContext).isTrue();
    });
  }

  @Test
  void pointingAtTheDatabasesFillsInAddressesAndCredentials() {
    ConnectionSettings shop = ConnectionSettings.parse("postgresql://owner@db.example:6543/shop?sslmode=require")
        .withPassword("shop-secret");
    ConnectionSettings audit = ConnectionSettings.parse("postgresql://writer@127.0.0.1:5999/audit?sslmode=disable")
        .withPassword("audit-secret");
    DemoManifests manifests = DemoManifests.load().pointedAt(shop, audit);

    var connection = manifests.source.getSpec().connection;
    assertThat(connection.host).isEqualTo("db.example");
    assertThat(connection.port).isEqualTo(6543);
    assertThat(connection.sslMode.libpq()).isEqualTo("require");
    assertThat(manifests.source.getSpec().destination.port).isEqualTo(5999);
    Secret shopSecret = secret(manifests, connection.credentialsSecretRef.name);
    assertThat(shopSecret.getStringData()).containsEntry("username", "owner").containsEntry("password", "shop-secret");
    Secret auditSecret = secret(manifests, manifests.source.getSpec().destination.credentialsSecretRef.name);
    assertThat(auditSecret.getStringData()).containsEntry("username", "writer").containsEntry("password", "audit-secret");
  }

  private static Secret secret(DemoManifests manifests, String name) {
    return manifests.secrets.stream().filter(s -> s.getMetadata().getName().equals(name)).findFirst().orElseThrow();
  }
}
