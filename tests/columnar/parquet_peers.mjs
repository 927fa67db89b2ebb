// Parquet parity with independent implementations (npm peers):
//  1. files written by edgeperf (zstd, snappy, none; with and without dictionary)
//     are read by DuckDB and Polars, row counts and every value compared exactly;
//  2. files written by DuckDB's COPY ... TO (zstd, snappy, uncompressed; OPTIONAL
//     columns with definition levels) are read by edgeperf with identical values;
//     Polars-written files likewise;
//  3. DuckDB files edgeperf cannot represent (nulls, strings, gzip) give one-line errors.
// Usage: node parquet_peers.mjs --tool build/tests/columnar/parquet_tool --work-dir DIR
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function parseArgs() {
  const args = { tool: null, workDir: null };
  for (let i = 2; i < process.argv.length; i += 2) {
    if (process.argv[i] === '--tool') args.tool = process.argv[i + 1];
    else if (process.argv[i] === '--work-dir') args.workDir = process.argv[i + 1];
    else throw new Error(`unknown argument ${process.argv[i]}`);
  }
  if (!args.tool || !args.workDir) throw new Error('usage: --tool PATH --work-dir DIR');
  return args;
}

const args = parseArgs();
let duckdb;
let pl;
try {
  duckdb = await import('@duckdb/node-api');
  pl = (await import('nodejs-polars')).default;
} catch (error) {
  console.error(`parquet_peers: npm peers missing (run scripts/setup.sh): ${error.message}`);
  process.exit(1);
}

fs.mkdirSync(args.workDir, { recursive: true });
const work = (name) => path.join(args.workDir, name);
let failures = 0;
let checks = 0;
function check(condition, message) {
  checks += 1;
  if (!condition) {
    failures += 1;
    console.error(`FAIL: ${message}`);
  }
}

function tool(...toolArgs) {
  return execFileSync(args.tool, toolArgs,
                      { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}
function dump(file) {
  return JSON.parse(tool('dump', file));
}
function toolError(file) {
  const result = spawnSync(args.tool, ['dump', file], { encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr.trim() };
}

// edgeperf prints floats in shortest round-trip form, with inf/-inf/nan spelled so.
function parseFloatText(text) {
  return { inf: Infinity, '-inf': -Infinity, nan: NaN, '-nan': NaN }[text] ?? Number(text);
}

// Exact equality of a value given by a peer with edgeperf's decimal string.
function sameValue(type, ours, theirs) {
  if (type === 'float32') {
    const a = Math.fround(parseFloatText(ours));
    return Number.isNaN(a) ? Number.isNaN(theirs) : Object.is(a, theirs);
  }
  if (type === 'float64') {
    const a = parseFloatText(ours);
    return Number.isNaN(a) ? Number.isNaN(theirs) : Object.is(a, theirs);
  }
  return BigInt(ours) === BigInt(theirs);
}

function compareColumn(label, type, ours, theirs) {
  check(ours.length === theirs.length, `${label}: ${ours.length} vs ${theirs.length} values`);
  const n = Math.min(ours.length, theirs.length);
  for (let i = 0; i < n; ++i) {
    if (!sameValue(type, ours[i], theirs[i])) {
      check(false, `${label}: row ${i}: edgeperf ${ours[i]} vs peer ${theirs[i]}`);
      return;
    }
  }
  checks += 1;
}

const instance = await duckdb.DuckDBInstance.create(':memory:');
const conn = await instance.connect();
async function query(sql) {
  return (await conn.runAndReadAll(sql)).getColumnsObjectJS();
}

// ---- 1. edgeperf writes, DuckDB and Polars read ----
const ROWS = 25000;
const variants = [
  ['zstd', []],
  ['snappy', []],
  ['none', []],
  ['zstd', ['--no-dictionary']],
];
for (const [codec, extra] of variants) {
  const file = work(`edgeperf_${codec}${extra.length ? '_plain' : ''}.parquet`);
  tool('write-sample', file, '--rows', String(ROWS), '--compression', codec,
       '--row-group-rows', '7000', ...extra);
  const ours = dump(file);
  const label = path.basename(file);
  check(ours.num_rows === ROWS && ours.row_groups === 4, `${label}: edgeperf sees ${ours.num_rows} rows`);

  // DuckDB: types, statistics and values. DuckDB maps TIMESTAMP(NANOS, UTC) to
  // TIMESTAMPTZ, which holds microseconds, so ts_ns is compared at that precision here
  // and exactly (nanoseconds) through Polars below.
  const types = await query(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  check(types.column_type[0] === 'TIMESTAMP WITH TIME ZONE', `${label}: DuckDB ts type ${types.column_type[0]}`);
  check(types.column_type[1] === 'INTEGER' && types.column_type[2] === 'FLOAT',
        `${label}: DuckDB types ${types.column_type}`);
  const duck = await query(
    `SELECT count(*) OVER () AS n, epoch_us(ts_ns)::VARCHAR AS ts_us, * EXCLUDE (ts_ns)
     FROM read_parquet('${file}')`);
  check(duck.n.length === ROWS && Number(duck.n[0]) === ROWS, `${label}: DuckDB row count`);
  const usOurs = ours.columns.ts_ns.map((v) => (BigInt(v) / 1000n).toString());
  compareColumn(`${label} DuckDB ts_ns (us)`, 'int64', usOurs, duck.ts_us);
  for (const field of ours.schema.slice(1)) {
    compareColumn(`${label} DuckDB ${field.name}`, field.type, ours.columns[field.name], duck[field.name]);
  }
  const stats = await query(
    `SELECT path_in_schema, stats_min_value, stats_max_value, compression, encodings
     FROM parquet_metadata('${file}') WHERE row_group_id = 0`);
  const sensorAt = stats.path_in_schema.indexOf('sensor_id');
  check(stats.stats_min_value[sensorAt] === '0' && stats.stats_max_value[sensorAt] === '3',
        `${label}: DuckDB sees sensor_id stats ${stats.stats_min_value[sensorAt]}..${stats.stats_max_value[sensorAt]}`);
  const wantCodec = { zstd: 'ZSTD', snappy: 'SNAPPY', none: 'UNCOMPRESSED' }[codec];
  check(stats.compression.every((c) => c === wantCodec), `${label}: codecs ${stats.compression}`);
  if (!extra.length) {
    check(String(stats.encodings[sensorAt]).includes('RLE_DICTIONARY'),
          `${label}: sensor_id encodings ${stats.encodings[sensorAt]}`);
  }

  // Polars: timestamps exactly (as strings, int64 does not fit a JS number).
  const df = pl.readParquet(file);
  check(df.height === ROWS, `${label}: Polars reads ${df.height} rows`);
  check(String(df.getColumn('ts_ns').dtype).includes('Datetime'), `${label}: Polars ts dtype ${df.getColumn('ts_ns').dtype}`);
  const tsPolars = df.select(pl.col('ts_ns').cast(pl.Int64).cast(pl.Utf8)).getColumn('ts_ns').toArray();
  compareColumn(`${label} Polars ts_ns`, 'int64', ours.columns.ts_ns, tsPolars);
  for (const field of ours.schema.slice(1)) {
    compareColumn(`${label} Polars ${field.name}`, field.type, ours.columns[field.name],
                  df.getColumn(field.name).toArray());
  }
}

// ---- 2. DuckDB writes, edgeperf reads ----
await conn.run(`CREATE TABLE src AS SELECT
    make_timestamp_ns(1763719200000000000 + i * 250001) AS ts,
    (i % 5)::INTEGER AS sensor_id,
    (sin(i * 0.001) * 9.81)::FLOAT AS accel,
    (i * 0.5 - 1e6)::DOUBLE AS dbl,
    (i * 7919 - 123456789012)::BIGINT AS big,
    ((i % 3) * 0.5)::FLOAT AS level
  FROM range(0, 30000) t(i)`);
const truth = await query(
  `SELECT epoch_ns(ts)::VARCHAR AS ts, sensor_id, accel, dbl, big::VARCHAR AS big, level FROM src`);
const expectedTypes = { ts: 'int64', sensor_id: 'int32', accel: 'float32', dbl: 'float64', big: 'int64', level: 'float32' };
for (const [codec, options] of [
  ['zstd', 'COMPRESSION zstd'],
  ['snappy', 'COMPRESSION snappy'],
  ['uncompressed', 'COMPRESSION uncompressed'],
  ['zstd_v2', 'COMPRESSION zstd, PARQUET_VERSION v2'],
]) {
  const file = work(`duckdb_${codec}.parquet`);
  await conn.run(`COPY src TO '${file}' (FORMAT parquet, ${options}, ROW_GROUP_SIZE 10000)`);
  const label = path.basename(file);
  let ours;
  try {
    ours = dump(file);
  } catch (error) {
    check(false, `${label}: edgeperf failed: ${toolError(file).stderr}`);
    continue;
  }
  check(ours.num_rows === 30000, `${label}: edgeperf reads ${ours.num_rows} rows`);
  check(ours.schema[0].timestamp_ns === true, `${label}: ts is timestamp_ns`);
  for (const field of ours.schema) {
    check(field.type === expectedTypes[field.name], `${label}: ${field.name} type ${field.type}`);
    compareColumn(`${label} ${field.name}`, field.type, ours.columns[field.name], truth[field.name]);
  }
}

// ---- 2b. Polars writes (its own page layout and encodings), edgeperf reads ----
for (const compression of ['zstd', 'snappy', 'uncompressed']) {
  const file = work(`polars_${compression}.parquet`);
  pl.readParquet(work('duckdb_zstd.parquet')).writeParquet(file, { compression });
  const label = path.basename(file);
  let ours;
  try {
    ours = dump(file);
  } catch (error) {
    check(false, `${label}: edgeperf failed: ${toolError(file).stderr}`);
    continue;
  }
  check(ours.num_rows === 30000, `${label}: edgeperf reads ${ours.num_rows} rows`);
  for (const field of ours.schema) {
    compareColumn(`${label} ${field.name}`, field.type, ours.columns[field.name], truth[field.name]);
  }
}

// ---- 3. DuckDB files outside edgeperf's model: clear one-line errors ----
const errorCases = [
  ['nulls', `SELECT i::INTEGER AS id, CASE WHEN i = 77 THEN NULL ELSE i * 1.5 END::DOUBLE AS maybe FROM range(0, 100) t(i)`, '', /column 'maybe'.*null/],
  ['strings', `SELECT i::INTEGER AS id, 'x' || i AS name FROM range(0, 10) t(i)`, '', /column 'name'.*BYTE_ARRAY/],
  ['gzip', `SELECT i::INTEGER AS id FROM range(0, 10) t(i)`, ', COMPRESSION gzip', /GZIP/],
];
for (const [name, sql, options, pattern] of errorCases) {
  const file = work(`duckdb_${name}.parquet`);
  await conn.run(`COPY (${sql}) TO '${file}' (FORMAT parquet${options})`);
  const { status, stderr } = toolError(file);
  check(status === 1, `${name}: edgeperf exit status ${status}`);
  check(pattern.test(stderr) && !stderr.includes('\n') && stderr.includes(path.basename(file)),
        `${name}: error message '${stderr}'`);
}

console.log(`parquet_peers: ${checks} checks, ${failures} failures`);
process.exit(failures === 0 ? 0 : 1);
