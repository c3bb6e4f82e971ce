package io.pgtrail.reconciler.sourcedatabase;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrail.api.v1alpha1.LocalObjectRef;
import io.pgtrail.api.v1alpha1.TrackingPolicySpec;
import io.pgtrail.postgres.catalog.QualifiedName;
import io.pgtrail.reconciler.trackingpolicy.PolicyScope;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrackingUnionTest {
  static PolicyScope policy(String name, List<String> schemas, List<String> tables, List<String> excludes,
      List<String> ignore, boolean all) {
    TrackingPolicySpec spec = new TrackingPolicySpec();
    spec.sourceRef = new LocalObjectRef("src");
    spec.schemas = schemas;
    spec.tables = tables;
    spec.excludeTables = excludes;
    spec.ignoreColumns = ignore;
    spec.allTables = all;
    return PolicyScope.parse(name, spec);
  }

  static QualifiedName q(String s) {
    return QualifiedName.parse(s, "public");
  }

  @Test
  void unionsSchemasTablesAndIgnoredColumns() {
    TrackingUnion union = TrackingUnion.of(List.of(
        policy("a", List.of("sales"), List.of(), List.of("sales.sessions"), List.of("*.updated_at"), false),
        policy("b", List.of(), List.of("orders", "public.customers"), List.of(), List.of("orders.note"), false)));
    assertThat(union.scope().schemas()).containsExactly("sales");
    assertThat(union.scope().tables()).containsExactly(q("public.customers"), q("public.orders"));
    assertThat(union.scope().excludeTables()).containsExactly(q("sales.sessions"));
    assertThat(union.scope().allTables()).isFalse();
    assertThat(union.ignoreColumns()).containsExactly("*.updated_at", "orders.note");
    assertThat(union.trackNewTables()).isTrue();
    assertThat(union.contextTriggers()).isFalse();
  }

  @Test
  void aTableExcludedByOnePolicyStaysWhenAnotherCoversIt() {
    TrackingUnion union = TrackingUnion.of(List.of(
        policy("a", List.of("public"), List.of(), List.of("public.audit"), List.of(), false),
        policy("b", List.of(), List.of("public.audit"), List.of(), List.of(), false),
        policy("c", List.of(), List.of(), List.of("sales.x"), List.of(), true)));
    assertThat(union.scope().excludeTables()).containsExactly(q("sales.x"));
    assertThat(union.scope().allTables()).isTrue();
    assertThat(union.scope().schemas()).containsExactly("public");
  }

  @Test
  void aPolicyWithNothingNamedTracksPublic() {
    PolicyScope p = policy("a", List.of(), List.of(), List.of(), List.of(), false);
    assertThat(p.schemas()).containsExactly("public");
    assertThat(p.covers(q("public.orders"))).isTrue();
    assertThat(p.covers(q("sales.orders"))).isFalse();
  }

  @Test
  void badNamesAreRejectedWithTheFieldName() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            policy("a", List.of(), List.of("a.b.c"), List.of(), List.of(), false))
        .hasMessageContaining("spec.tables");
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            policy("a", List.of(), List.of(), List.of(), List.of("nodot"), false))
        .hasMessageContaining("spec.ignoreColumns");
    org.assertj.core.api.Assertions.assertThatThrownBy(() ->
            policy("a", List.of(), List.of(), List.of(), List.of("a.*"), false))
        .hasMessageContaining("spec.ignoreColumns");
    assertThat(policy("a", List.of(), List.of(), List.of(), List.of("s.t.c", "*.c", "t.c"), false).ignoreColumns())
        .hasSize(3);
  }
}
