package io.pgtrail.helm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Facts from the chart's Chart.yaml. */
final class ChartMetadata {

  private ChartMetadata() {}

  static String appVersion() {
    return chartYaml().path("appVersion").asText();
  }

  static String defaultImage() {
    return "ghcr.io/pgtrail/pgtrail:" + appVersion();
  }

  private static JsonNode chartYaml() {
    try {
      return new YAMLMapper().readTree(ProjectFiles.chart().resolve("Chart.yaml").toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
