-- The type corpus: one table per type family, hostile values. Each table has an integer key "id".
-- TypeCorpusTest compares what the worker records with to_jsonb(t) of every row.
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE TYPE mood AS ENUM ('happy', 'with space', 'quote"d', 'comma,', '{brace}', 'back\slash', 'ünï', 'NULL', '');
CREATE TYPE pair AS (label text, dropped int, n int);
ALTER TYPE pair DROP ATTRIBUTE dropped;
CREATE TYPE nest AS (p pair, tags text[], at timestamp, m mood, ok boolean, j jsonb, pts point[]);
CREATE TYPE floatrange AS RANGE (subtype = float8);
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE DOMAIN still_positive AS positive;
CREATE DOMAIN doc AS jsonb;
CREATE DOMAIN pair_d AS pair;
CREATE DOMAIN ints_d AS int[];
CREATE DOMAIN stamp_d AS timestamptz;
CREATE DOMAIN money_d AS numeric(12, 2);

CREATE TABLE numbers (id int PRIMARY KEY, i2 smallint, i4 int, i8 bigint, f4 real, f8 double precision,
  n numeric, n2 numeric(20, 10), m money, o oid);
INSERT INTO numbers VALUES
  (1, 32767, -2147483648, 9223372036854775807, 1.5e-7, 1e308, 123456789012345678901234567890.123456789012345678901, 0.1, 1234.56, 4294967295),
  (2, 0, 0, 0, 'NaN', 'Infinity', 'NaN', -0.0000000001, -0.01, 0),
  (3, NULL, NULL, NULL, '-Infinity', '-Infinity', 'Infinity', NULL, NULL, NULL),
  (4, -1, 1, -1, -0, 5e-324, '-Infinity', 1e9, 0, 1),
  (5, 1, 2, 3, 3.4028235e38, 0.1, 1e-100, 0, 92233720368547758.07, 26);

CREATE TABLE texts (id int PRIMARY KEY, t text, v varchar(8), c char(4), ch "char", nm name, b bytea, u uuid,
  x xml, tv tsvector, tq tsquery, bl boolean);
INSERT INTO texts VALUES
  (1, 'plain', 'v', 'c', 'a', 'name', '\x00ff10', 'b7267340-5011-40f4-ab9a-902b68fc5b25', '<a b="1">x &amp; y</a>', 'a fat cat', 'fat & rat', true),
  (2, e'quote" back\\slash {brace} [bracket] comma, tab\t newline\n', 'ü', 'ä', '"', 'na"me', '', '00000000-0000-0000-0000-000000000000', '<?xml version="1.0"?><r/>', $$'it''s' 'a':1A,2B$$, '!a | b:*', false),
  (3, '', '', '', NULL, '', '\x', NULL, NULL, '', NULL, NULL),
  (4, 'NULL', 'null', 'NULL', ' ', ' x ', '\x5c22', NULL, '<x>🎉 ünïcødé 日本</x>', 'ünï:3', 'x', NULL),
  (5, '🎉 ünïcødé 日本 \u2028', e'\\', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, true);

CREATE TABLE times (id int PRIMARY KEY, d date, t time, tz timetz, ts timestamp, tstz timestamptz, i interval,
  ts0 timestamp(0), tstz3 timestamptz(3));
INSERT INTO times VALUES
  (1, '2024-01-02', '03:04:05', '03:04:05+02', '2024-01-02 03:04:05', '2024-01-02 03:04:05+02', '1 day 02:03:04', '2024-01-02 03:04:05.9', '2024-01-02 03:04:05.1239+05:30'),
  (2, 'infinity', '24:00', '00:00:00-15:59', 'infinity', '-infinity', '-1 year -2 mons +3 days -04:05:06.5', 'infinity', 'infinity'),
  (3, '-infinity', '00:00:00.000001', '23:59:59.999999+14', '-infinity', 'infinity', '0', '-infinity', '-infinity'),
  (4, '0044-03-15 BC', '12:00', '12:00-03:30', '0044-03-15 10:00:00.5 BC', '0044-03-15 10:00:00 BC', '178000000 years', '4713-01-01 00:00 BC', '1900-01-01 00:00:00+00:53:28'),
  (5, '10000-01-01', NULL, NULL, '294276-12-31 23:59:59.999999', '1970-01-01 00:00:00+00', '1 microsecond', '2000-02-29 23:59:59', '2024-06-01 12:00:00.5-07'),
  (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE arrays (id int PRIMARY KEY, ints int[], nested int[], texts text[], nums numeric[], bools boolean[],
  stamps timestamp[], zones timestamptz[], dates date[], jsons json[], docs jsonb[], bins bytea[], uuids uuid[],
  boxes box[], pts point[], ranges int4range[], moods mood[], pairs pair[], nests nest[], positives positive[],
  domained ints_d, vecs int2vector, oids oidvector, floats float8[]);
INSERT INTO arrays VALUES
  (1, '{1,NULL,3}', '{{1,2},{3,4}}', ARRAY['a b', 'c"d', 'e\f', 'g,h', '{i}', 'NULL', '', ' lead', NULL, 'ü'],
   '{1.5,NaN,Infinity,-Infinity,NULL,123456789012345678901234567890}', '{t,f,NULL}',
   '{"2024-01-02 03:04:05","infinity",NULL,"0044-03-15 00:00:00 BC"}', '{"2024-01-02 03:04:05+02","-infinity"}',
   '{2024-01-02,infinity,NULL}', ARRAY['{"a": [1, 2]}'::json, '"s"', 'null', NULL], ARRAY['{"b": {"c": null}}'::jsonb, '[]', '1e3'],
   '{"\\x00ff",NULL,"\\x"}', '{b7267340-5011-40f4-ab9a-902b68fc5b25}', '{(1,1),(0,0);(3,3),(2,2)}',
   '{"(1,2)","(3.5,-4)"}', '{"[1,3)",empty,"(,5)"}', ARRAY['with space', 'quote"d', 'comma,', '{brace}', 'back\slash', 'NULL', '']::mood[],
   ARRAY[ROW('a,b', 1)::pair, ROW('q"u\o(t)e', NULL)::pair, NULL, ROW(NULL, NULL)::pair, ROW('', 0)::pair],
   ARRAY[ROW(ROW('x', 1), '{"a b",NULL}', '2024-01-02 03:04:05', 'comma,', true, '{"k": "v\"}"}', '{"(1,2)"}')::nest],
   '{1,2}', '{7,8,NULL}', '1 2 -3', '1 4294967295', '{1.5,NaN,1e300,-0}'),
  (2, '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '', '', '{}'),
  (3, '[0:1]={5,6}', '{{{1},{2}},{{3},{NULL}}}', '{"{\"}",",","\\\\"}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, ARRAY[NULL]::pair[], ARRAY[ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL)::nest], NULL, NULL, '0', '0', NULL),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TYPE mixed AS (d doc, r int4range, pos positive, dps pair_d[], h hstore);
CREATE TABLE composites (id int PRIMARY KEY, p pair, gone int, n nest, dp pair_d, dps pair_d[], mx mixed);
ALTER TABLE composites DROP COLUMN gone;
INSERT INTO composites VALUES
  (1, ROW('a', 1), ROW(ROW('in"ner', 2), '{x,"y z"}', '2024-01-02 03:04:05.5', 'ünï', false, '[1, "2", {"3": null}]', '{"(0,0)"}'), ROW('d', 3),
   ARRAY[ROW('z', 9)::pair_d, NULL], ROW('{"a": [1, {"b": "c,d"}]}', '[1,5)', 7, ARRAY[ROW('e"f', 1)::pair_d], 'k=>"v,w"')),
  (2, ROW(NULL, NULL), ROW(NULL, NULL, NULL, NULL, NULL, NULL, NULL), NULL, '{}', ROW(NULL, NULL, NULL, NULL, NULL)),
  (3, NULL, NULL, ROW('', NULL), NULL, NULL),
  (4, ROW(e'back\\slash ( ) , "quote" \n', -1), ROW(ROW('', 0), '{}', 'infinity', '', NULL, 'null', '{}'), ROW(' ', 0),
   ARRAY[ROW('(', NULL)::pair_d], ROW('"s"', 'empty', 1, '{}', ''));

CREATE TABLE ranges (id int PRIMARY KEY, i4 int4range, i8 int8range, n numrange, ts tsrange, tstz tstzrange,
  d daterange, f floatrange, mi int4multirange, md datemultirange, mf floatmultirange);
INSERT INTO ranges VALUES
  (1, '[1,5)', '(,)', '[1.5,2.5]', '["2024-01-02 03:04:05","2024-01-03 00:00:00")', '["2024-01-02 03:04:05+02",infinity)',
   '[2024-01-01,2024-02-01)', '[1.5,NaN]', '{[1,3),[5,7)}', '{[2024-01-01,2024-01-05)}', '{}'),
  (2, 'empty', 'empty', 'empty', 'empty', 'empty', 'empty', 'empty', '{}', '{}', '{(,)}'),
  (3, '(,5)', '[9223372036854775806,)', '(,)', '(-infinity,infinity)', NULL, '[-infinity,2024-01-01)', '(-Infinity,Infinity)', '{(,1),[3,)}', NULL, '{[1,2],[3,4]}');

CREATE TABLE domains (id int PRIMARY KEY, pos positive, still still_positive, d doc, p pair_d, ints ints_d,
  s stamp_d, m money_d, mood mood);
INSERT INTO domains VALUES
  (1, 1, 2, '{"nested": {"deep": [1, {"x": null}]}, "s": "q\"uote"}', ROW('dom', 4), '{1,2,NULL}', '2024-01-02 03:04:05+00', 12.5, 'with space'),
  (2, NULL, NULL, 'null', NULL, '{}', 'infinity', -0.01, ''),
  (3, 2147483647, 3, '[]', ROW(NULL, NULL), NULL, NULL, NULL, 'quote"d'),
  (4, 5, 5, '"just a string"', ROW('', 0), '{{1},{2}}', '2000-01-01 00:00:00+14', 9999999999.99, 'NULL');

CREATE TABLE geometry (id int PRIMARY KEY, pt point, l line, ls lseg, bx box, pa path, pg polygon, c circle);
INSERT INTO geometry VALUES
  (1, '(1,2)', '{1,-1,0}', '[(0,0),(1,1)]', '(1,1),(0,0)', '[(0,0),(1,1),(2,0)]', '((0,0),(1,1),(1,0))', '<(0,0),5>'),
  (2, '(-0.5,1e300)', '{0,1,-2.5}', '[(1.5,2.5),(-1,-2)]', '(0,0),(0,0)', '((0,0),(1,1))', '((0,0))', '<(1.5,-2),0.25>'),
  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL);

CREATE TABLE network (id int PRIMARY KEY, i inet, c cidr, m macaddr, m8 macaddr8, b bit(4), vb varbit, lsn pg_lsn, h hstore);
INSERT INTO network VALUES
  (1, '192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', '08:00:2b:01:02:03:04:05', B'1010', B'', '16/B374D848',
   'a=>1, "b c"=>NULL, "q\"uote"=>"x\\y", ""=>"", "ü"=>"日本"'),
  (2, '::1', '2001:db8::/32', '00:00:00:00:00:00', '00:00:00:ff:fe:00:00:00', B'0000', B'1111111111111111111', '0/0', ''),
  (3, NULL, NULL, NULL, NULL, NULL, B'1', NULL, NULL);

CREATE TABLE toasted (id int PRIMARY KEY, big text, doc jsonb, nums int[], counter int);
ALTER TABLE toasted ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO toasted SELECT 1, repeat('ü"\,{}', 40000), jsonb_build_object('k', repeat('v', 300000)),
  array(SELECT g FROM generate_series(1, 50000) g), 0;
UPDATE toasted SET counter = counter + 1;

CREATE TABLE generated (id int PRIMARY KEY, a int, doubled int GENERATED ALWAYS AS (a * 2) STORED,
  label text GENERATED ALWAYS AS ('n=' || a) STORED);
INSERT INTO generated (id, a) VALUES (1, 21), (2, NULL);
