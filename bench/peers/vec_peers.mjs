// Peers for `edgeperf vecbench`: Polars (nodejs-polars) and DuckDB (@duckdb/node-api), when
// installed in node_modules. Same sizes and distributions as edgeperf (multiply: f32 uniform in
// [0.5, 1.5); groupby: int32 keys uniform in [0, groups), f64 values uniform in [0, 1)).
// Data is generated and touched before timing; only the operation is timed: one warm-up, then
// `repeats` runs. Prints one JSON object per line, like vec_peers.py.
// Usage: node vec_peers.mjs --n N --rows R --groups G --threads T --repeats K
import { performance } from 'node:perf_hooks';

function parseArgs(argv) {
  const args = { n: 50_000_000, rows: 5_000_000, groups: 1000, threads: 2, repeats: 10 };
  for (let i = 2; i + 1 < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in args)) throw new Error(`unknown option ${argv[i]}`);
    args[key] = Number(argv[i + 1]);
  }
  return args;
}

async function measure(fn, repeats) {
  await fn();
  const times = [];
  for (let r = 0; r < repeats; ++r) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  const mid = times.length >> 1;
  const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
  return { best_ms: times[0], median_ms: median };
}

function emit(peer, op, method, timing) {
  console.log(JSON.stringify({ peer, op, method, ...timing }));
}

function skip(peer, reason) {
  console.log(JSON.stringify({ peer, skipped: reason }));
}

function uniformF32(n, offset) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; ++i) a[i] = Math.random() + offset;
  return a;
}

function groupData(rows, groups) {
  const keys = new Int32Array(rows);
  const values = new Float64Array(rows);
  for (let i = 0; i < rows; ++i) {
    keys[i] = Math.floor(Math.random() * groups);
    values[i] = Math.random();
  }
  return { keys, values };
}

async function runPolars(args) {
  process.env.POLARS_MAX_THREADS = String(args.threads);  // read when the pool starts
  let pl;
  try {
    pl = (await import('nodejs-polars')).default;
  } catch (error) {
    return skip('polars', `not installed: ${error.message.split('\n')[0]}`);
  }
  if (args.n > 0) {
    const a = pl.Series('a', uniformF32(args.n, 0.5), pl.Float32);
    const b = pl.Series('b', uniformF32(args.n, 0.5), pl.Float32);
    emit('polars', 'multiply', 'Polars a.mul(b)', await measure(() => a.mul(b), args.repeats));
  }
  if (args.rows > 0) {
    const { keys, values } = groupData(args.rows, args.groups);
    const df = pl.DataFrame({ k: pl.Series('k', keys, pl.Int32), v: pl.Series('v', values, pl.Float64) });
    emit('polars', 'groupby_mean', 'Polars groupBy().agg(mean)',
         await measure(() => df.groupBy('k').agg(pl.col('v').mean()), args.repeats));
  }
}

async function runDuckdb(args) {
  let duckdb;
  try {
    duckdb = await import('@duckdb/node-api');
  } catch (error) {
    return skip('duckdb', `not installed: ${error.message.split('\n')[0]}`);
  }
  const instance = await duckdb.DuckDBInstance.create(':memory:', { threads: String(args.threads) });
  const connection = await instance.connect();
  if (args.n > 0) {
    await connection.run(`CREATE TABLE m AS SELECT (random() + 0.5)::FLOAT AS a,
                          (random() + 0.5)::FLOAT AS b FROM range(${args.n})`);
    // Materialized into a table: DuckDB has no "out" buffer, this is its closest equivalent.
    emit('duckdb', 'multiply', 'DuckDB CREATE TABLE AS a*b',
         await measure(() => connection.run('CREATE OR REPLACE TEMP TABLE r AS SELECT a * b AS c FROM m'),
                       args.repeats));
    await connection.run('DROP TABLE m; DROP TABLE IF EXISTS r');
  }
  if (args.rows > 0) {
    await connection.run(`CREATE TABLE g AS SELECT floor(random() * ${args.groups})::INTEGER AS k,
                          random() AS v FROM range(${args.rows})`);
    emit('duckdb', 'groupby_mean', 'DuckDB GROUP BY avg',
         await measure(() => connection.run('SELECT k, avg(v) FROM g GROUP BY k'), args.repeats));
  }
}

const args = parseArgs(process.argv);
for (const run of [runPolars, runDuckdb]) {
  try {
    await run(args);
  } catch (error) {
    skip(run.name.replace(/^run/, '').toLowerCase(), `failed: ${error.message.split('\n')[0]}`);
  }
}
