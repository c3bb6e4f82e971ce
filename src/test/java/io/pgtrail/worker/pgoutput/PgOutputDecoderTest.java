package io.pgtrail.worker.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrail.postgres.connect.ConnectionSettings;
import io.pgtrail.testing.PgVersion;
import io.pgtrail.testing.TestPostgres;
import io.pgtrail.worker.PgOutputCapture;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;

/** Decodes bytes captured from a real server of each major. */
@ParameterizedClass
@MethodSource("io.pgtrail.testing.PgVersion#enabled")
class PgOutputDecoderTest {
  @Parameter PgVersion version;

  private ConnectionSettings database(String... setup) throws Exception {
    ConnectionSettings db = TestPostgres.newDatabase(version, "decoder");
    TestPostgres.shared(version).execute(db.database(), setup);
    PgOutputCapture.createSlot(db, db.database());
    return db;
  }

  @Test
  void decodesEveryMessageTypeOfARealStream() throws Exception {
    ConnectionSettings db = database(
        "CREATE TYPE mood AS ENUM ('ok', 'sad')",
        "CREATE TABLE t (id int PRIMARY KEY, name text, m mood)",
        "ALTER TABLE t REPLICA IDENTITY FULL",
        "CREATE PUBLICATION p FOR TABLE t");
    TestPostgres.shared(version).execute(db.database(),
        "BEGIN; SELECT pg_logical_emit_message(true, '_bemi', '{\"a\":1}');"
            + " INSERT INTO t VALUES (1, 'x', 'ok'); UPDATE t SET name = 'y' WHERE id = 1;"
            + " DELETE FROM t WHERE id = 1; COMMIT",
        "TRUNCATE t",
        "SELECT pg_logical_emit_message(false, 'other', 'hello')");

    List<PgOutputMessage> messages = PgOutputCapture.decodeAll(PgOutputCapture.take(db, db.database(), "p"));

    assertThat(messages).map(m -> m.getClass().getSimpleName()).containsSubsequence(
        "Begin", "Message", "Type", "Relation", "Insert", "Update", "Delete", "Commit",
        "Begin", "Truncate", "Commit", "Message");
    PgOutputMessage.Relation relation = first(messages, PgOutputMessage.Relation.class);
    assertThat(relation.namespace()).isEqualTo("public");
    assertThat(relation.name()).isEqualTo("t");
    assertThat(relation.replicaIdentity()).isEqualTo('f');
    assertThat(relation.columns()).map(PgOutputMessage.Column::name).containsExactly("id", "name", "m");
    assertThat(relation.columns().get(0).typeOid()).isEqualTo(23);
    PgOutputMessage.Type type = first(messages, PgOutputMessage.Type.class);
    assertThat(type.name()).isEqualTo("mood");
    assertThat(relation.columns().get(2).typeOid()).isEqualTo(type.oid());

    PgOutputMessage.Update update = first(messages, PgOutputMessage.Update.class);
    assertThat(update.oldKind()).isEqualTo('O');
    assertThat(update.oldTuple().value(1)).isEqualTo("x");
    assertThat(update.newTuple().value(1)).isEqualTo("y");
    PgOutputMessage.Delete delete = first(messages, PgOutputMessage.Delete.class);
    assertThat(delete.oldTuple().value(0)).isEqualTo("1");

    PgOutputMessage.Message context = first(messages, PgOutputMessage.Message.class);
    assertThat(context.transactional()).isTrue();
    assertThat(context.prefix()).isEqualTo("_bemi");
    assertThat(new String(context.content(), StandardCharsets.UTF_8)).isEqualTo("{\"a\":1}");
    PgOutputMessage.Message other = (PgOutputMessage.Message) messages.get(messages.size() - 1);
    assertThat(other.transactional()).isFalse();

    PgOutputMessage.Truncate truncate = first(messages, PgOutputMessage.Truncate.class);
    assertThat(truncate.relationOids()).containsExactly(relation.oid());
    PgOutputMessage.Begin begin = first(messages, PgOutputMessage.Begin.class);
    PgOutputMessage.Commit commit = first(messages, PgOutputMessage.Commit.class);
    assertThat(commit.commitLsn()).isEqualTo(begin.finalLsn());
    assertThat(commit.endLsn()).isGreaterThan(commit.commitLsn());
  }

  @Test
  void aRelationMessageAfterAlterTableCarriesTheNewColumns() throws Exception {
    ConnectionSettings db = database("CREATE TABLE t (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE t");
    TestPostgres.shared(version).execute(db.database(),
        "INSERT INTO t VALUES (1)", "ALTER TABLE t ADD COLUMN extra text", "INSERT INTO t VALUES (2, 'e')");

    List<PgOutputMessage.Relation> relations = PgOutputCapture.decodeAll(PgOutputCapture.take(db, db.database(), "p")).stream()
        .filter(PgOutputMessage.Relation.class::isInstance).map(PgOutputMessage.Relation.class::cast).toList();

    assertThat(relations).hasSize(2);
    assertThat(relations.get(1).columns()).map(PgOutputMessage.Column::name).containsExactly("id", "extra");
    assertThat(relations.get(0).replicaIdentity()).isEqualTo('d');
    assertThat(relations.get(0).columns().get(0).isKey()).isTrue();
  }

  @Test
  void emptyTransactionsAreBeginCommitPairsOrNothing() throws Exception {
    ConnectionSettings db = database("CREATE TABLE t (id int)", "CREATE TABLE untracked (id int)",
        "CREATE PUBLICATION p FOR TABLE t");
    TestPostgres.shared(version).execute(db.database(), "INSERT INTO untracked VALUES (1)");

    List<PgOutputMessage> messages = PgOutputCapture.decodeAll(PgOutputCapture.take(db, db.database(), "p"));

    if (version.major() == 14) {
      assertThat(messages).map(m -> m.getClass().getSimpleName()).contains("Begin", "Commit")
          .doesNotContain("Insert");
    } else {
      assertThat(messages).isEmpty();
    }
  }

  @Test
  void unchangedToastValuesAreMarkedUnchanged() throws Exception {
    ConnectionSettings db = database("CREATE TABLE t (id int PRIMARY KEY, big text, n int)",
        "CREATE PUBLICATION p FOR TABLE t");
    TestPostgres.shared(version).execute(db.database(),
        "ALTER TABLE t ALTER COLUMN big SET STORAGE EXTERNAL",
        "INSERT INTO t VALUES (1, repeat('x', 10000), 1)");
    PgOutputCapture.take(db, db.database(), "p");
    TestPostgres.shared(version).execute(db.database(), "UPDATE t SET n = 2");

    PgOutputMessage.Update update = first(PgOutputCapture.decodeAll(PgOutputCapture.take(db, db.database(), "p")),
        PgOutputMessage.Update.class);

    assertThat(update.oldTuple()).isNull();
    assertThat(update.newTuple().kind(1)).isEqualTo(TupleData.UNCHANGED_TOAST);
    assertThat(update.newTuple().value(2)).isEqualTo("2");
  }

  @Test
  void changesReplayedFromAnotherOriginComeWithAnOriginMessage() throws Exception {
    ConnectionSettings db = database("CREATE TABLE t (id int PRIMARY KEY)", "CREATE PUBLICATION p FOR TABLE t");
    String origin = "upstream_" + db.database();
    TestPostgres.shared(version).execute(db.database(),
        "SELECT pg_replication_origin_create('" + origin + "')",
        "SELECT pg_replication_origin_session_setup('" + origin + "')",
        "BEGIN; SELECT pg_replication_origin_xact_setup('0/ABC', now()); INSERT INTO t VALUES (1); COMMIT",
        "SELECT pg_replication_origin_session_reset()",
        "SELECT pg_replication_origin_drop('" + origin + "')");

    List<PgOutputMessage> messages = PgOutputCapture.decodeAll(PgOutputCapture.take(db, db.database(), "p"));

    assertThat(messages).map(m -> m.getClass().getSimpleName())
        .containsSubsequence("Begin", "Origin", "Relation", "Insert", "Commit"); // PG 14 adds empty pairs
    PgOutputMessage.Origin o = first(messages, PgOutputMessage.Origin.class);
    assertThat(o.name()).isEqualTo(origin);
    assertThat(o.commitLsn()).isEqualTo(0xABCL);
  }

  @Test
  void rejectsUnknownAndTruncatedMessagesClearly() {
    assertThatThrownBy(() -> PgOutputDecoder.decode(ByteBuffer.wrap(new byte[] {'S', 0, 0, 0, 1})))
        .hasMessageContaining("unsupported pgoutput message type 'S'");
    assertThatThrownBy(() -> PgOutputDecoder.decode(ByteBuffer.wrap(new byte[] {'B', 0, 0})))
        .hasMessageContaining("truncated pgoutput message of type 'B'");
  }

  @Test
  void negotiatesTheProtocolVersionFromTheServerMajor() {
    assertThat(PgOutputDecoder.protocolVersionFor(14)).isEqualTo(1);
    assertThat(PgOutputDecoder.protocolVersionFor(15)).isEqualTo(3);
    assertThat(PgOutputDecoder.protocolVersionFor(17)).isEqualTo(4);
  }

  private static <T> T first(List<PgOutputMessage> messages, Class<T> type) {
    return messages.stream().filter(type::isInstance).map(type::cast).findFirst().orElseThrow(
        () -> new AssertionError("no " + type.getSimpleName() + " in " + messages));
  }
}
