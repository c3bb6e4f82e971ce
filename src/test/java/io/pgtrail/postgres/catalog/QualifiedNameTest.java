package io.pgtrail.postgres.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class QualifiedNameTest {
  @Test
  void parsesPlainQualifiedAndQuotedNames() {
    assertThat(QualifiedName.parse("orders", "public")).isEqualTo(new QualifiedName("public", "orders"));
    assertThat(QualifiedName.parse("shop.Orders", "public")).isEqualTo(new QualifiedName("shop", "Orders"));
    assertThat(QualifiedName.parse("\"my.schema\".\"we\"\"ird\"", "public"))
        .isEqualTo(new QualifiedName("my.schema", "we\"ird"));
  }

  @Test
  void quotesEveryPart() {
    assertThat(new QualifiedName("public", "x\"; DROP TABLE y; --").quoted())
        .isEqualTo("\"public\".\"x\"\"; DROP TABLE y; --\"");
  }

  @Test
  void rejectsBadNames() {
    assertThatThrownBy(() -> QualifiedName.parse("a.b.c", "public")).hasMessageContaining("schema.table");
    assertThatThrownBy(() -> QualifiedName.parse("a.", "public")).hasMessageContaining("empty part");
    assertThatThrownBy(() -> QualifiedName.parse("\"a", "public")).hasMessageContaining("unclosed quote");
  }

  @Test
  void replicationNamesAreRestricted() {
    assertThat(Identifiers.requireReplicationName("slot", "pgtrail_orders_1")).isEqualTo("pgtrail_orders_1");
    assertThatThrownBy(() -> Identifiers.requireReplicationName("slot", "Bad-Name"))
        .hasMessageContaining("a-z, 0-9 and _");
    assertThatThrownBy(() -> Identifiers.requireReplicationName("slot", "x".repeat(64)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Identifiers.requireReplicationName("publication", "x'); DROP"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
