package io.pgtrail;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The import rules of design.md and docs/architecture.md, checked on the compiled production classes: which
 * package may know which. A rule broken by new code fails here with the offending dependency named.
 */
class ArchitectureTest {
  private static final String KUBERNETES_OPERATOR_SDK = "io.javaoperatorsdk..";
  private static final String FABRIC8 = "io.fabric8..";

  private static JavaClasses production;

  @BeforeAll
  static void importProductionClasses() {
    production = new ClassFileImporter()
        .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
        .importPackages("io.pgtrail");
  }

  @Test
  void theRulesSeeTheWholeCodeBase() {
    assertThat(production.size()).as("production classes imported").isGreaterThan(200);
    // a rule that must be broken shows that dependencies are really read: the demo drives the operator
    ArchRule mustBeBroken = noClasses().that().resideInAPackage("io.pgtrail.demo..")
        .should().dependOnClassesThat().resideInAPackage("io.pgtrail.operator..");
    assertThat(mustBeBroken.evaluate(production).hasViolation()).isTrue();
  }

  @Test
  void postgresAndSshKnowNothingOfKubernetesNorOfTheirCallers() {
    noClasses().that().resideInAnyPackage("io.pgtrail.postgres..", "io.pgtrail.ssh..")
        .should().dependOnClassesThat().resideInAnyPackage(FABRIC8, KUBERNETES_OPERATOR_SDK, "io.pgtrail.api..",
            "io.pgtrail.operator..", "io.pgtrail.reconciler..", "io.pgtrail.worker..", "io.pgtrail.cli..",
            "io.pgtrail.demo..")
        .check(production);
  }

  @Test
  void theWorkerNeverImportsTheOperator() {
    noClasses().that().resideInAPackage("io.pgtrail.worker..")
        .should().dependOnClassesThat().resideInAnyPackage("io.pgtrail.operator..", "io.pgtrail.reconciler..",
            "io.pgtrail.api..", FABRIC8, KUBERNETES_OPERATOR_SDK)
        .check(production);
  }

  @Test
  void theSharedHealthServerAndBackoffKnowNoProcess() {
    // observe/ (health and metrics endpoint) and retry/ (backoff) serve the operator, the worker and ssh alike
    noClasses().that().resideInAnyPackage("io.pgtrail.observe..", "io.pgtrail.retry..")
        .should().dependOnClassesThat().resideInAnyPackage("io.pgtrail.operator..", "io.pgtrail.reconciler..",
            "io.pgtrail.worker..", "io.pgtrail.api..", "io.pgtrail.ssh..", "io.pgtrail.postgres..", "io.pgtrail.cli..",
            "io.pgtrail.demo..", FABRIC8, KUBERNETES_OPERATOR_SDK)
        .check(production);
  }

  @Test
  void theApiImportsOnlyTheFabric8ModelAndAnnotations() {
    noClasses().that().resideInAPackage("io.pgtrail.api..")
        .should().dependOnClassesThat().resideInAnyPackage("io.pgtrail.operator..", "io.pgtrail.reconciler..",
            "io.pgtrail.postgres..", "io.pgtrail.ssh..", "io.pgtrail.worker..", "io.pgtrail.cli..",
            "io.pgtrail.demo..", KUBERNETES_OPERATOR_SDK)
        .check(production);
  }

  @Test
  void thePostgresPackagesFormALadderWithoutCycles() {
    // connect <- catalog <- slots <- plan <- preflight: each concern may use the ones below it only
    slices().matching("io.pgtrail.postgres.(*)..").should().beFreeOfCycles().check(production);
    noClasses().that().resideInAnyPackage("io.pgtrail.postgres.connect..", "io.pgtrail.postgres.catalog..",
            "io.pgtrail.postgres.slots..", "io.pgtrail.postgres.plan..")
        .should().dependOnClassesThat().resideInAPackage("io.pgtrail.postgres.preflight..")
        .check(production);
  }

  @Test
  void theImageCarriesNoDemoNorBenchNorEmbeddedPostgres() {
    noClasses().that().resideInAnyPackage("io.pgtrail.operator..", "io.pgtrail.reconciler..", "io.pgtrail.cli..",
            "io.pgtrail.api..", "io.pgtrail.ssh..", "io.pgtrail.postgres.connect..", "io.pgtrail.postgres.catalog..",
            "io.pgtrail.postgres.slots..", "io.pgtrail.postgres.plan..", "io.pgtrail.postgres.preflight..")
        .should().dependOnClassesThat().resideInAnyPackage("io.pgtrail.demo..", "io.pgtrail.worker.bench..",
            "io.pgtrail.postgres.embedded..")
        .check(production);
  }
}
