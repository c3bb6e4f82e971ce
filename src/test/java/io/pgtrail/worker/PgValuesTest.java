package io.pgtrail.worker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Text forms the type corpus cannot produce: malformed literals, and the docs' pinned settings. */
class PgValuesTest {
  private static final PgType PAIR = PgType.composite(new String[] {"label", "n"},
      new PgType[] {PgType.STRING, PgType.builtin(PgType.INT4)});

  private static String json(PgType type, String text) throws Exception {
    StringWriter w = new StringWriter();
    try (JsonGenerator g = new JsonFactory().createGenerator(w)) {
      g.writeStartArray();
      PgValues.write(g, type, text);
      PgValues.write(g, PgType.builtin(PgType.INT4), "1"); // the generator is still usable afterwards
      g.writeEndArray();
    }
    return w.toString();
  }

  @Test
  void aLiteralThatDoesNotMatchItsTypeIsRecordedWholeAsText() throws Exception {
    assertThat(json(PAIR, "(a,1,extra)")).isEqualTo("[\"(a,1,extra)\",1]");
    assertThat(json(PAIR, "(a")).isEqualTo("[\"(a\",1]");
    assertThat(json(PgType.arrayOf(PAIR, ','), "{\"(a,1)\",\"(b,2,3)\"}")).isEqualTo("[\"{\\\"(a,1)\\\",\\\"(b,2,3)\\\"}\",1]");
    assertThat(json(PgType.builtin(1007), "{1,2")).isEqualTo("[\"{1,2\",1]");
    assertThat(json(PgType.builtin(1007), "{1,2}x")).isEqualTo("[\"{1,2}x\",1]");
    assertThat(json(PgType.HSTORE_VALUE, "\"a\"=>b")).isEqualTo("[\"\\\"a\\\"=>b\",1]");
  }

  @Test
  void aCompositeWrittenBeforeAnAttributeWasAddedHasTheLeadingFields() throws Exception {
    assertThat(json(PAIR, "(a)")).isEqualTo("[{\"label\":\"a\"},1]");
    assertThat(json(PAIR, "()")).isEqualTo("[{\"label\":null},1]");
  }

  @Test
  void wellFormedLiteralsAfterAFailureStillParse() throws Exception {
    json(PAIR, "(broken");
    assertThat(json(PAIR, "(\"x \"\"y\"\"\",)")).isEqualTo("[{\"label\":\"x \\\"y\\\"\",\"n\":null},1]");
  }

  @Test
  void timestampsBecomeIso8601LikeToJsonb() {
    assertThat(PgValues.isoTimestamp("2024-01-02 03:04:05", false)).isEqualTo("2024-01-02T03:04:05");
    assertThat(PgValues.isoTimestamp("2024-01-02 03:04:05.5+00", true)).isEqualTo("2024-01-02T03:04:05.5+00:00");
    assertThat(PgValues.isoTimestamp("2024-01-02 03:04:05-03:30", true)).isEqualTo("2024-01-02T03:04:05-03:30");
    assertThat(PgValues.isoTimestamp("0044-03-15 10:00:00+00 BC", true)).isEqualTo("0044-03-15T10:00:00+00:00 BC");
    assertThat(PgValues.isoTimestamp("-infinity", true)).isEqualTo("-infinity");
  }

  @Test
  void theDocsNameThePinnedOutputSettings() throws Exception {
    String doc = Files.readString(Path.of("docs/values.md"));
    for (String set : PgValues.CANONICAL_OUTPUT_SQL.split(";")) {
      assertThat(doc).contains("`" + set.strip().substring("SET ".length()) + "`");
    }
  }
}
