-- The differential oracle's source schema: tables of every value family in schema public (tracked by
-- pgtrail's own setup, run by the test afterwards) and, in schema oracle, a plain trigger-based audit
-- table as the reference. Partitions are recorded under their root, as pgtrail's publication does it
-- (publish_via_partition_root).
CREATE TYPE mood AS ENUM ('ok', 'odd "label", {x}', 'ünï');
CREATE TYPE pair AS (label text, n int);
CREATE DOMAIN doc AS jsonb;
CREATE DOMAIN positive AS int CHECK (VALUE > 0);

CREATE TABLE kinds (id bigint PRIMARY KEY, n numeric, f float8, b boolean, t text, ts timestamp, tstz timestamptz,
  d date, i interval, j json, jb jsonb, dj doc, pos positive, m mood, p pair, ps pair[], ints int[], texts text[],
  r int4range, mr int4multirange, pt point, net inet, bits varbit, x xml, tv tsvector, cash money, v int2vector,
  bin bytea, u uuid, big text, doubled bigint GENERATED ALWAYS AS (id * 2) STORED);
ALTER TABLE kinds ALTER COLUMN big SET STORAGE EXTERNAL;
CREATE TABLE items (region text, id int, note text, PRIMARY KEY (id, region));
CREATE TABLE measurements (id int, bucket int, v text, PRIMARY KEY (id, bucket)) PARTITION BY LIST (bucket);
CREATE TABLE measurements_1 PARTITION OF measurements FOR VALUES IN (1);
CREATE TABLE measurements_2 PARTITION OF measurements FOR VALUES IN (2);
CREATE TABLE logs (msg text, n int);

CREATE SCHEMA oracle;
CREATE TABLE oracle.audit (seq bigserial PRIMARY KEY, xid bigint NOT NULL DEFAULT (txid_current() & 4294967295),
  tbl text NOT NULL, op text NOT NULL, pk text, before jsonb NOT NULL, after jsonb NOT NULL);

CREATE FUNCTION oracle.capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  key_columns text[];
  source_row record;
  key text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO oracle.audit (tbl, op, before, after) VALUES (TG_TABLE_NAME, 'TRUNCATE', '{}', '{}');
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' THEN source_row := OLD; ELSE source_row := NEW; END IF;
  SELECT array_agg(a.attname::text ORDER BY k.ord) INTO key_columns
    FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
    WHERE i.indrelid = TG_RELID AND i.indisprimary;
  IF cardinality(key_columns) = 1 THEN
    EXECUTE format('SELECT ($1).%I::text', key_columns[1]) INTO key USING source_row;
  ELSIF cardinality(key_columns) > 1 THEN
    SELECT jsonb_agg(to_jsonb(source_row) -> c ORDER BY o)::text INTO key FROM unnest(key_columns) WITH ORDINALITY AS u(c, o);
  END IF;
  INSERT INTO oracle.audit (tbl, op, pk, before, after) VALUES (
    coalesce((SELECT c.relname FROM pg_class c WHERE c.oid = pg_partition_root(TG_RELID)), TG_TABLE_NAME),
    CASE TG_OP WHEN 'INSERT' THEN 'CREATE' ELSE TG_OP END, key,
    CASE WHEN TG_OP = 'INSERT' THEN '{}' ELSE to_jsonb(OLD) END,
    CASE WHEN TG_OP = 'DELETE' THEN '{}' ELSE to_jsonb(NEW) END);
  RETURN NULL;
END $$;

CREATE TRIGGER oracle AFTER INSERT OR UPDATE OR DELETE ON kinds FOR EACH ROW EXECUTE FUNCTION oracle.capture();
CREATE TRIGGER oracle AFTER INSERT OR UPDATE OR DELETE ON items FOR EACH ROW EXECUTE FUNCTION oracle.capture();
CREATE TRIGGER oracle AFTER INSERT OR UPDATE OR DELETE ON measurements FOR EACH ROW EXECUTE FUNCTION oracle.capture();
CREATE TRIGGER oracle AFTER INSERT OR UPDATE OR DELETE ON logs FOR EACH ROW EXECUTE FUNCTION oracle.capture();
CREATE TRIGGER oracle_truncate AFTER TRUNCATE ON logs FOR EACH STATEMENT EXECUTE FUNCTION oracle.capture();
