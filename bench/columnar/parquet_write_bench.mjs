// Parquet write throughput: edgeperf vs DuckDB's COPY ... TO on the same rows.
//   node bench/columnar/parquet_write_bench.mjs [--tool build/tests/columnar/parquet_tool]
//        [--rows 5000000] [--repeat 3] [--work-dir /tmp/edgeperf_parquet_bench]
// Rows: the IMU sample (ts_ns int64 TIMESTAMP(NANOS), sensor_id int32, 7 float32).
// edgeperf times write_parquet (encode + write + fsync + rename); DuckDB times COPY of an
// in-memory table holding the same rows. Best of --repeat, codecs interleaved so both
// writers see the same machine load.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const options = {
  tool: 'build/tests/columnar/parquet_tool',
  rows: 5_000_000,
  repeat: 3,
  workDir: path.join(os.tmpdir(), 'edgeperf_parquet_bench'),
};
for (let i = 2; i < process.argv.length; i += 2) {
  const key = process.argv[i].replace(/^--/, '').replace(/-(.)/g, (_, c) => c.toUpperCase());
  if (!(key in options)) throw new Error(`unknown option ${process.argv[i]}`);
  options[key] = typeof options[key] === 'number' ? Number(process.argv[i + 1]) : process.argv[i + 1];
}
fs.mkdirSync(options.workDir, { recursive: true });
const file = (name) => path.join(options.workDir, name);

function edgeperfWrite(codec) {
  const out = execFileSync(options.tool, ['bench-write', file(`edgeperf_${codec}.parquet`),
    '--rows', String(options.rows), '--compression', codec, '--repeat', String(options.repeat)],
  { encoding: 'utf8' });
  return JSON.parse(out);
}

let conn = null;
try {
  const duckdb = await import('@duckdb/node-api');
  conn = await (await duckdb.DuckDBInstance.create(':memory:')).connect();
} catch (error) {
  console.log(`DuckDB not installed (${error.message.split('\n')[0]}); edgeperf numbers only`);
}

async function duckdbWrite(codec) {
  const name = { zstd: 'zstd', snappy: 'snappy', none: 'uncompressed' }[codec];
  const target = file(`duckdb_${codec}.parquet`);
  let best = Infinity;
  let bestCpu = Infinity;
  for (let i = 0; i < options.repeat; ++i) {
    const cpu0 = process.cpuUsage();  // the whole process, DuckDB's threads included
    const t0 = process.hrtime.bigint();
    await conn.run(`COPY imu TO '${target}' (FORMAT parquet, COMPRESSION ${name})`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
    const cpu = process.cpuUsage(cpu0);
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / 1e6);
  }
  return { seconds: best, cpuSeconds: bestCpu, bytes: fs.statSync(target).size };
}

const results = [];
for (const codec of ['zstd', 'snappy', 'none']) {
  const ours = edgeperfWrite(codec);
  const row = { codec, ours };
  if (conn) {
    const rows = (await conn.runAndReadAll('SELECT count(*) FROM duckdb_tables() WHERE table_name = \'imu\'')).getRows();
    if (Number(rows[0][0]) === 0) {
      // Same rows as edgeperf's sample. DuckDB has no TIMESTAMPTZ with nanoseconds, so
      // it holds ts_ns as TIMESTAMP_NS rebuilt from microseconds (3 fewer noisy digits).
      await conn.run(`CREATE TABLE imu AS SELECT make_timestamp_ns(epoch_ns(ts_ns)) AS ts_ns,
        * EXCLUDE (ts_ns) FROM read_parquet('${file(`edgeperf_${codec}.parquet`)}')`);
    }
    row.duckdb = await duckdbWrite(codec);
  }
  results.push(row);
}

console.log(`rows ${options.rows}, best of ${options.repeat}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
console.log('codec   | edgeperf Mrows/s  CPU s  size MB | DuckDB Mrows/s  CPU s  size MB | speed ratio');
for (const { codec, ours, duckdb } of results) {
  let line = `${codec.padEnd(7)} | ${ours.write_mrows_s.toFixed(2).padStart(15)} ${ours.write_cpu_s.toFixed(2).padStart(6)}` +
    ` ${(ours.bytes / 1e6).toFixed(1).padStart(8)}`;
  if (duckdb) {
    const duckRate = options.rows / duckdb.seconds / 1e6;
    line += ` | ${duckRate.toFixed(2).padStart(14)} ${duckdb.cpuSeconds.toFixed(2).padStart(6)}` +
      ` ${(duckdb.bytes / 1e6).toFixed(1).padStart(8)} | ${(ours.write_mrows_s / duckRate).toFixed(2)}x`;
  }
  console.log(line);
}
