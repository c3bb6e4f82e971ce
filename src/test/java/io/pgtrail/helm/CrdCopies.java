package io.pgtrail.helm;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Compares the chart's copy of the CRDs ({@code helm/pgtrail/crds/}) with the committed CRDs
 * ({@code crds/}, which the operator build generates and its own test keeps current).
 */
final class CrdCopies {

  static final String GROUP = "pgtrail.io";

  private CrdCopies() {}

  /** Every way in which {@code chartCopy} differs from {@code source}; empty when they agree. */
  static List<String> differences(Path source, Path chartCopy) {
    List<String> problems = new ArrayList<>();
    Set<String> sourceFiles = yamlFiles(source);
    Set<String> copiedFiles = yamlFiles(chartCopy);
    if (sourceFiles.isEmpty()) {
      problems.add(source + " holds no CRD: the operator build must generate at least one");
    }
    for (String name : sourceFiles) {
      if (!copiedFiles.contains(name)) {
        problems.add(chartCopy.resolve(name) + " is missing");
      } else if (!sameBytes(source.resolve(name), chartCopy.resolve(name))) {
        problems.add(chartCopy.resolve(name) + " differs from " + source.resolve(name));
      }
      problems.addAll(notAPgtrailCrd(source.resolve(name)));
    }
    for (String name : copiedFiles) {
      if (!sourceFiles.contains(name)) {
        problems.add(chartCopy.resolve(name) + " has no counterpart in " + source);
      }
    }
    return problems;
  }

  /** Every regular file in {@code directory} (a missing directory counts as empty). */
  static Set<String> yamlFiles(Path directory) {
    if (!Files.isDirectory(directory)) {
      return Set.of();
    }
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(Files::isRegularFile)
          .map(file -> file.getFileName().toString())
          .filter(name -> !name.startsWith("."))
          .collect(Collectors.toCollection(TreeSet::new));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<String> notAPgtrailCrd(Path file) {
    List<String> problems = new ArrayList<>();
    try {
      List<JsonNode> documents = Helm.parseManifests(Files.readString(file));
      if (documents.isEmpty()) {
        problems.add(file + " is empty");
      }
      for (JsonNode document : documents) {
        CustomResourceDefinition crd = StrictKubernetesSchema.validate(document, CustomResourceDefinition.class);
        if (!GROUP.equals(crd.getSpec().getGroup())) {
          problems.add(file + " defines group " + crd.getSpec().getGroup() + ", not " + GROUP);
        }
      }
    } catch (RuntimeException e) {
      problems.add(file + " is not a CustomResourceDefinition: " + e.getMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return problems;
  }

  private static boolean sameBytes(Path first, Path second) {
    try {
      return Arrays.equals(Files.readAllBytes(first), Files.readAllBytes(second));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
