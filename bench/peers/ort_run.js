#!/usr/bin/env node
'use strict';
// Runs an ONNX model in ONNX Runtime (npm onnxruntime-node, CPU) as the peer of
// `edgeperf run`: same inputs (.npy), same outputs (DIR/<output name>.npy) and,
// with --repeat, the same timings JSON fields.
//
//   node bench/peers/ort_run.js MODEL --input NAME=FILE.npy ... --output-dir DIR
//        --threads N [--repeat N --warmup W --timings-json F] [--profile PREFIX]
//
// --profile writes ORT's own per-node profile (its Chrome-trace JSON) to PREFIX*.json;
// bench/peers/ort_profile.py summarizes it next to `edgeperf run --profile`.

const fs = require('fs');
const path = require('path');
const npy = require('./npy.js');

const USAGE = 'usage: ort_run.js MODEL --input NAME=FILE.npy ... [--output-dir DIR] ' +
    '[--threads N] [--repeat N] [--warmup W] [--timings-json F] [--profile PREFIX]';

class UsageError extends Error {}

function parsePositiveInt(flag, text, minimum) {
  if (!/^\d+$/.test(text || '') || Number(text) < minimum) {
    throw new UsageError(`${flag} needs an integer >= ${minimum}, got '${text}'`);
  }
  return Number(text);
}

function parseArgs(argv) {
  const opts = {model: null, inputs: [], outputDir: null, threads: 1, repeat: 0, warmup: 0,
                timingsJson: null, profile: null};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--input') {
      const spec = value();
      const eq = spec.indexOf('=');
      if (eq <= 0 || eq === spec.length - 1) {
        throw new UsageError(`--input needs NAME=FILE.npy, got '${spec}'`);
      }
      opts.inputs.push({name: spec.slice(0, eq), file: spec.slice(eq + 1)});
    } else if (arg === '--output-dir') {
      opts.outputDir = value();
    } else if (arg === '--threads') {
      opts.threads = parsePositiveInt(arg, value(), 1);
    } else if (arg === '--repeat') {
      opts.repeat = parsePositiveInt(arg, value(), 1);
    } else if (arg === '--warmup') {
      opts.warmup = parsePositiveInt(arg, value(), 0);
    } else if (arg === '--timings-json') {
      opts.timingsJson = value();
    } else if (arg === '--profile') {
      opts.profile = value();
    } else if (arg === '-h' || arg === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option '${arg}'`);
    } else if (opts.model === null) {
      opts.model = arg;
    } else {
      throw new UsageError(`unexpected argument '${arg}'`);
    }
  }
  if (opts.model === null) throw new UsageError('missing MODEL');
  if (opts.timingsJson !== null && opts.repeat === 0) {
    throw new UsageError('--timings-json needs --repeat N');
  }
  return opts;
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new Error(`cannot load onnxruntime-node (run scripts/setup.sh): ${e.message}`);
  }
}

// VmHWM is the peak resident set size of this process, in kB.
function peakRssBytes() {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : null;
}

function elapsedMs(startNs) {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

function buildFeeds(ort, session, inputs) {
  const feeds = {};
  for (const {name, file} of inputs) {
    if (!session.inputNames.includes(name)) {
      throw new Error(`model has no input '${name}' (inputs: ${session.inputNames.join(', ')})`);
    }
    if (name in feeds) throw new Error(`input '${name}' given twice`);
    const array = npy.readNpy(file);
    feeds[name] = new ort.Tensor(array.dtype, array.data, array.shape);
  }
  const missing = session.inputNames.filter((n) => !(n in feeds));
  if (missing.length > 0) throw new Error(`missing --input for ${missing.join(', ')}`);
  return feeds;
}

function writeOutputs(outputs, outputDir) {
  fs.mkdirSync(outputDir, {recursive: true});
  for (const [name, tensor] of Object.entries(outputs)) {
    if (/[/\\]/.test(name) || name === '' || name === '.' || name === '..') {
      throw new Error(`output name '${name}' is not a valid file name`);
    }
    npy.writeNpy(path.join(outputDir, `${name}.npy`),
                 {dtype: tensor.type, shape: Array.from(tensor.dims), data: tensor.data});
  }
}

function writeJsonAtomic(file, value) {
  const tmp = path.join(path.dirname(file) || '.', `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, JSON.stringify(value, null, 1) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

async function main(opts) {
  const ort = loadOrt();
  ort.env.logLevel = 'error';
  const runtimeRssBytes = peakRssBytes();  // node + ORT library, before any model
  if (!fs.existsSync(opts.model)) throw new Error(`${opts.model}: no such model file`);
  const sessionOptions = {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    executionProviders: ['cpu'],
    logSeverityLevel: 3,
  };
  if (opts.profile !== null) {
    sessionOptions.enableProfiling = true;
    sessionOptions.profileFilePrefix = opts.profile;
  }
  const loadStart = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(opts.model, sessionOptions);
  const loadMs = elapsedMs(loadStart);
  const feeds = buildFeeds(ort, session, opts.inputs);

  const firstStart = process.hrtime.bigint();
  const outputs = await session.run(feeds);
  const firstRunMs = elapsedMs(firstStart);
  if (opts.outputDir !== null) writeOutputs(outputs, opts.outputDir);

  if (opts.repeat > 0) {
    for (let i = 0; i < opts.warmup; i++) await session.run(feeds);
    const latencies = [];
    for (let i = 0; i < opts.repeat; i++) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      latencies.push(elapsedMs(start));
    }
    const timings = {latencies_ms: latencies, load_ms: loadMs, first_run_ms: firstRunMs,
                     peak_rss_bytes: peakRssBytes(), arena_bytes: null,
                     runtime_rss_bytes: runtimeRssBytes,
                     peer: `onnxruntime-node ${ort.env.versions.common}`, threads: opts.threads};
    if (opts.timingsJson !== null) writeJsonAtomic(opts.timingsJson, timings);
  }
  if (opts.profile !== null) session.endProfiling();
  await session.release();
}

function oneLine(message) {
  return String(message).replace(/\s*\n\s*/g, ' ').trim();
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`ort_run: error: ${oneLine(e.message)}\n${USAGE}\n`);
  process.exit(2);
}
main(opts).catch((e) => {
  process.stderr.write(`ort_run: error: ${oneLine(e.message)}\n`);
  process.exit(1);
});
