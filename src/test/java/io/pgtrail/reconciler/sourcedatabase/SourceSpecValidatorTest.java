package io.pgtrail.reconciler.sourcedatabase;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.pgtrail.api.v1alpha1.CredentialsSpec;
import io.pgtrail.api.v1alpha1.DestinationEndpointSpec;
import io.pgtrail.api.v1alpha1.ProviderSpec;
import io.pgtrail.api.v1alpha1.SecretKeyRef;
import io.pgtrail.api.v1alpha1.SecretKeysRef;
import io.pgtrail.api.v1alpha1.SourceConnectionSpec;
import io.pgtrail.api.v1alpha1.SourceDatabase;
import io.pgtrail.api.v1alpha1.SourceDatabaseSpec;
import io.pgtrail.api.v1alpha1.SourceDatabaseStatus;
import io.pgtrail.api.v1alpha1.SshTunnelSpec;
import io.pgtrail.api.v1alpha1.SslModeSpec;
import io.pgtrail.api.v1alpha1.status.Reason;
import io.pgtrail.postgres.plan.Provider;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.FieldError;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.Invalid;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.ResolvedSource;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.Result;
import io.pgtrail.reconciler.sourcedatabase.SourceSpecValidator.Valid;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every rule of the SourceDatabase spec, and the derived names, without a cluster or a database. */
class SourceSpecValidatorTest {
  private static final String INVALID_NAME = "is invalid: use 1 to 63 characters of a-z, 0-9 and _";

  @Test
  void aCompleteSpecResolvesDefaultNames() {
    ResolvedSource resolved = valid(validate(spec(s -> {}), "apps", "orders-db", null));
    assertThat(resolved).isEqualTo(new ResolvedSource(Provider.SELF_MANAGED, "pgtrail_apps_orders_db",
        "pgtrail_apps_orders_db", null));
  }

  @Test
  void explicitNamesWinAndTheSlotDefaultsToThePublication() {
    assertThat(valid(validate(spec(s -> s.publicationName = "audit"), "apps", "db", null)))
        .extracting(ResolvedSource::publication, ResolvedSource::slot).containsExactly("audit", "audit");
    assertThat(valid(validate(spec(s -> {
      s.publicationName = "audit";
      s.slotName = "audit_slot";
    }), "apps", "db", null))).extracting(ResolvedSource::publication, ResolvedSource::slot)
        .containsExactly("audit", "audit_slot");
  }

  @Test
  void derivedNamesOfHostileOrLongResourceNamesAreValidReplicationNames() {
    String longName = "a".repeat(200);
    for (String[] nsName : new String[][] {{"Team.A", "Db-Ünïcode"}, {"x", longName}, {longName, longName},
        {"ns", "weird\"; DROP TABLE x;--"}}) {
      ResolvedSource resolved = valid(validate(spec(s -> {}), nsName[0], nsName[1], null));
      assertThat(resolved.publication()).matches("[a-z0-9_]{1,63}").isEqualTo(resolved.slot());
    }
    assertThat(valid(validate(spec(s -> {}), "x", longName, null)).publication())
        .isNotEqualTo(valid(validate(spec(s -> {}), "y", longName, null)).publication());
  }

  @Test
  void managedRoleNamesTheRoleAfterTheSlotUnlessGiven() {
    assertThat(valid(validate(spec(s -> s.credentials.mode = CredentialsSpec.Mode.MANAGED_ROLE), "apps", "db", null))
        .managedRoleName()).isEqualTo("pgtrail_apps_db");
    assertThat(valid(validate(spec(s -> {
      s.credentials.mode = CredentialsSpec.Mode.MANAGED_ROLE;
      s.credentials.roleName = "trail_reader";
    }), "apps", "db", null)).managedRoleName()).isEqualTo("trail_reader");
    assertThat(valid(validate(spec(s -> s.credentials.roleName = "IGNORED Without managedRole"), "apps", "db", null))
        .managedRoleName()).isNull();
  }

  @Test
  void aMissingSpec() {
    assertThat(errors(validate(null, "apps", "db", null)))
        .containsExactly(new FieldError("spec", Reason.INVALID_SPEC, "spec is missing"));
  }

  @Test
  void fieldsTheOperatorCouldNotDecodeAreReportedAloneAndNamed() {
    SourceDatabase decoded = new KubernetesSerialization().unmarshal(("{'apiVersion': 'pgtrail.io/v1alpha1',"
        + " 'kind': 'SourceDatabase', 'metadata': {'name': 's'}, 'spec': {'provider': 'oracleCloud',"
        + " 'connection': {'host': 'db', 'port': 'five'}}}").replace('\'', '"'), SourceDatabase.class);
    List<FieldError> errors = errors(validate(decoded.getSpec(), "apps", "s", null));
    assertThat(errors).extracting(FieldError::field).containsExactly("spec.provider", "spec.connection.port");
    assertThat(errors).extracting(FieldError::message).containsExactlyElementsOf(decoded.getSpec().invalidFields());

    SourceDatabaseSpec notAnObject = spec(s -> {});
    notAnObject.invalidFields().add("spec: expected an object, got string");
    assertThat(errors(validate(notAnObject, "apps", "s", null))).extracting(FieldError::field).containsExactly("spec");
  }

  @Test
  void theConnectionNeedsHostDatabaseAndCredentials() {
    for (Consumer<SourceDatabaseSpec> broken : List.<Consumer<SourceDatabaseSpec>>of(
        s -> s.connection = null, s -> s.connection.host = " ", s -> s.connection.database = null)) {
      assertThat(onlyError(spec(broken))).isEqualTo(new FieldError("spec.connection", Reason.INVALID_SPEC,
          "spec.connection needs host and database"));
    }
    for (Consumer<SourceDatabaseSpec> broken : List.<Consumer<SourceDatabaseSpec>>of(
        s -> s.connection.credentialsSecretRef = null, s -> s.connection.credentialsSecretRef.name = "")) {
      assertThat(onlyError(spec(broken))).isEqualTo(new FieldError("spec.connection.credentialsSecretRef.name",
          Reason.INVALID_SPEC, "spec.connection.credentialsSecretRef.name is required"));
    }
  }

  @Test
  void verifyingTheServerNeedsACaCertificateOnBothEnds() {
    for (SslModeSpec mode : List.of(SslModeSpec.VERIFY_CA, SslModeSpec.VERIFY_FULL)) {
      assertThat(onlyError(spec(s -> s.connection.sslMode = mode))).isEqualTo(new FieldError(
          "spec.connection.caCertSecretRef", Reason.INVALID_SPEC,
          "spec.connection.sslMode " + mode.libpq() + " needs caCertSecretRef"));
      assertThat(onlyError(spec(s -> s.destination.sslMode = mode))).isEqualTo(new FieldError(
          "spec.destination.caCertSecretRef", Reason.INVALID_SPEC,
          "spec.destination.sslMode " + mode.libpq() + " needs caCertSecretRef"));
      valid(validate(spec(s -> {
        s.connection.sslMode = mode;
        s.connection.caCertSecretRef = new SecretKeyRef("ca", "ca.crt");
        s.destination.sslMode = mode;
        s.destination.caCertSecretRef = new SecretKeyRef("ca", "ca.crt");
      }), "apps", "db", null));
    }
    for (SslModeSpec mode : List.of(SslModeSpec.DISABLE, SslModeSpec.ALLOW, SslModeSpec.PREFER, SslModeSpec.REQUIRE)) {
      valid(validate(spec(s -> {
        s.connection.sslMode = mode;
        s.destination.sslMode = mode;
      }), "apps", "db", null));
    }
  }

  @Test
  void theDestinationNeedsHostDatabaseAndCredentials() {
    for (Consumer<SourceDatabaseSpec> broken : List.<Consumer<SourceDatabaseSpec>>of(s -> s.destination = null,
        s -> s.destination.host = null, s -> s.destination.database = "", s -> s.destination.credentialsSecretRef = null)) {
      assertThat(onlyError(spec(broken))).isEqualTo(new FieldError("spec.destination", Reason.INVALID_SPEC,
          "spec.destination needs host, database and credentialsSecretRef"));
    }
  }

  @Test
  void theProviderIsRequiredAndDecidesWhetherAManagedRoleIsPossible() {
    assertThat(onlyError(spec(s -> s.provider = null))).isEqualTo(new FieldError("spec.provider", Reason.INVALID_SPEC,
        "spec.provider is required (selfManaged, awsRds, gcpCloudSql, supabase, neon, render, digitalOcean, azure,"
            + " timescale)"));
    for (ProviderSpec provider : ProviderSpec.values()) {
      Result result = validate(spec(s -> {
        s.provider = provider;
        s.credentials.mode = CredentialsSpec.Mode.MANAGED_ROLE;
      }), "apps", "db", null);
      if (Provider.fromId(provider.id()).canCreateReplicationRole()) {
        assertThat(valid(result).provider()).isEqualTo(Provider.fromId(provider.id()));
      } else {
        assertThat(errors(result)).containsExactly(new FieldError("spec.credentials.mode", Reason.INVALID_SPEC,
            provider.id() + " does not allow creating REPLICATION roles: use credentials.mode provided with the"
                + " database's own user"));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "Audit", "audit-trail", "audit trail", "audit\"; DROP PUBLICATION x; --", "pgtrail.x",
      "ünïcode", "tab\there", "a\u0000b", "6363636363636363636363636363636363636363636363636363636363636363"})
  void hostileReplicationNamesAreRejected(String name) {
    assertThat(onlyError(spec(s -> {
      s.publicationName = name;
      s.slotName = "audit";
    })).field()).isEqualTo("spec.publicationName");
    assertThat(onlyError(spec(s -> s.slotName = name)))
        .satisfies(e -> assertThat(e.field()).isEqualTo("spec.slotName"))
        .satisfies(e -> assertThat(e.message()).startsWith("spec.slotName: slotName name '").endsWith(INVALID_NAME)
            .doesNotContain("\u0000"));
    assertThat(onlyError(spec(s -> {
      s.credentials.mode = CredentialsSpec.Mode.MANAGED_ROLE;
      s.credentials.roleName = name;
    })).field()).isEqualTo("spec.credentials.roleName");
  }

  @Test
  void anInvalidPublicationNameIsAlsoTheSlotsDefault() {
    assertThat(errors(validate(spec(s -> s.publicationName = "Bad"), "apps", "db", null)))
        .extracting(FieldError::field).containsExactly("spec.publicationName", "spec.slotName");
  }

  @Test
  void slotAndPublicationNamesCannotChangeOnceReported() {
    SourceDatabaseStatus reported = new SourceDatabaseStatus();
    reported.publicationName = "pgtrail_apps_db";
    reported.slotName = "pgtrail_apps_db";
    valid(validate(spec(s -> {}), "apps", "db", reported));
    assertThat(errors(validate(spec(s -> s.slotName = "other"), "apps", "db", reported))).containsExactly(
        new FieldError("spec.slotName", Reason.INVALID_SPEC, "slotName cannot change from pgtrail_apps_db to other:"
            + " create a new SourceDatabase for a new slot"));
    assertThat(errors(validate(spec(s -> s.publicationName = "other"), "apps", "db", reported))).containsExactly(
        new FieldError("spec.slotName", Reason.INVALID_SPEC, "slotName cannot change from pgtrail_apps_db to other:"
            + " create a new SourceDatabase for a new slot"),
        new FieldError("spec.publicationName", Reason.INVALID_SPEC,
            "publicationName cannot change from pgtrail_apps_db to other"));
  }

  @Test
  void verifyFullCannotCheckTheServerNameThroughAnSshTunnel() {
    Consumer<SourceDatabaseSpec> tunnelled = s -> {
      s.sshTunnel = new SshTunnelSpec();
      s.sshTunnel.host = "bastion";
      s.sshTunnel.user = "pgtrail";
      s.connection.caCertSecretRef = new SecretKeyRef("ca", "ca.crt");
    };
    assertThat(onlyError(spec(tunnelled.andThen(s -> s.connection.sslMode = SslModeSpec.VERIFY_FULL))))
        .isEqualTo(new FieldError("spec.connection.sslMode", Reason.INVALID_SPEC, "spec.connection.sslMode verify-full"
            + " cannot check the server name through an SSH tunnel: use verify-ca (or require) with sshTunnel"));
    valid(validate(spec(tunnelled.andThen(s -> s.connection.sslMode = SslModeSpec.VERIFY_CA)), "apps", "db", null));
  }

  @Test
  void everyBrokenRuleIsReportedInRuleOrderAndJoinedForTheCondition() {
    Invalid invalid = (Invalid) validate(spec(s -> {
      s.connection.host = null;
      s.destination = null;
      s.provider = null;
      s.slotName = "Slot";
    }), "apps", "db", null);
    assertThat(invalid.errors()).extracting(FieldError::field)
        .containsExactly("spec.connection", "spec.destination", "spec.provider", "spec.slotName");
    assertThat(invalid.message()).startsWith("spec.connection needs host and database; spec.destination needs host,")
        .contains("; spec.slotName: slotName name 'Slot' " + INVALID_NAME);
  }

  private static Result validate(SourceDatabaseSpec spec, String namespace, String name, SourceDatabaseStatus previous) {
    return SourceSpecValidator.validate(spec, namespace, name, previous);
  }

  private static ResolvedSource valid(Result result) {
    assertThat(result).isInstanceOf(Valid.class);
    return ((Valid) result).source();
  }

  private static List<FieldError> errors(Result result) {
    assertThat(result).isInstanceOf(Invalid.class);
    return ((Invalid) result).errors();
  }

  private static FieldError onlyError(SourceDatabaseSpec spec) {
    List<FieldError> errors = errors(validate(spec, "apps", "db", null));
    assertThat(errors).hasSize(1);
    return errors.get(0);
  }

  /** A valid spec, then changed by {@code change}. */
  private static SourceDatabaseSpec spec(Consumer<SourceDatabaseSpec> change) {
    SourceDatabaseSpec spec = new SourceDatabaseSpec();
    spec.provider = ProviderSpec.SELF_MANAGED;
    spec.connection = new SourceConnectionSpec();
    spec.connection.host = "db.example";
    spec.connection.database = "app";
    spec.connection.credentialsSecretRef = new SecretKeysRef("source-credentials");
    spec.destination = new DestinationEndpointSpec();
    spec.destination.host = "trail.example";
    spec.destination.database = "trail";
    spec.destination.credentialsSecretRef = new SecretKeysRef("trail-credentials");
    change.accept(spec);
    return spec;
  }
}
