// The live view's cost to the pipeline: `edgeperf vision --serve` with no viewer and with
// 20 viewers (each reading the MJPEG frame stream and the event stream), interleaved,
// same model, source and duration. Target: FPS with 20 viewers >= 0.90 x FPS without.
// Two sources: a 30 fps camera-paced one (what a webcam delivers) and an unpaced one
// (frames as fast as inference takes them: the pipeline's own bound).
//   node bench/vision/serve_viewers.mjs --edgeperf build/edgeperf [--seconds 6] [--rounds 3]
//     [--threads 2] [--viewers 20]
// Prints a table; exit 1 when the paced target is missed.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const edgeperf = path.resolve(args.edgeperf ?? 'build/edgeperf');
const seconds = Number(args.seconds ?? 6);
const rounds = Number(args.rounds ?? 3);
const threads = String(args.threads ?? 2);
const viewerCount = Number(args.viewers ?? 20);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'edgeperf-serve-bench-'));
const model = path.join(work, 'mobilenet_v2.onnx');
execFileSync(edgeperf, ['zoo', 'mobilenet_v2', '-o', model]);

function viewer(port, target, stopAt) {
  return new Promise((resolve) => {
    let parts = 0;
    const marker = target.endsWith('frames') ? '--edgeperf-frame' : 'data: ';
    const request = http.get({ host: '127.0.0.1', port, path: target, agent: false }, (response) => {
      response.on('data', (chunk) => { parts += chunk.toString('latin1').split(marker).length - 1; });
    });
    request.on('error', () => {});
    setTimeout(() => { request.destroy(); resolve(parts); }, Math.max(0, stopAt - Date.now()));
  });
}

async function run(source, extra, viewers) {
  const stats = path.join(work, `stats-${Date.now()}.json`);
  const child = spawn(edgeperf, ['vision', '--model', model, '--source', source, ...extra, '--serve', '0',
    '--threads', threads, '--duration', String(seconds), '--json', stats], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk) => { out += chunk; });
  let port = null;
  while (!port && child.exitCode === null) {
    port = /live view at http:\/\/[^:]+:(\d+)/.exec(out)?.[1];
    if (!port) await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const stopAt = Date.now() + seconds * 1000;
  const clients = [];
  for (let i = 0; i < viewers; i += 1) {
    clients.push(viewer(port, '/api/vision/frames', stopAt), viewer(port, '/api/vision/events', stopAt));
  }
  const received = await Promise.all(clients);
  await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.on('exit', resolve)));
  const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
  const frames = received.filter((_, i) => i % 2 === 0);
  return { fps: s.fps, infer: s.stages_ms.infer.p50, render: s.stages_ms.render.p50,
    minFramesPerViewer: frames.length ? Math.min(...frames) / seconds : null };
}

const scenarios = [['camera 30 fps', 'synthetic:640x480@30', []], ['unpaced', 'synthetic:640x480@1000', ['--no-pace']]];
const table = [];
let missed = false;
for (const [name, source, extra] of scenarios) {
  const alone = [], watched = [];
  for (let round = 0; round < rounds; round += 1) {
    alone.push(await run(source, extra, 0));
    watched.push(await run(source, extra, viewerCount));
  }
  const median = (rows, key) => rows.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
  const ratio = median(watched, 'fps') / median(alone, 'fps');
  for (let i = 0; i < rounds; i += 1) {
    table.push(`| ${name} | ${i + 1} | ${alone[i].fps.toFixed(1)} | ${watched[i].fps.toFixed(1)} | ` +
      `${alone[i].render.toFixed(2)} / ${watched[i].render.toFixed(2)} | ${watched[i].minFramesPerViewer.toFixed(1)} |`);
  }
  table.push(`| ${name} | median | ${median(alone, 'fps').toFixed(1)} | ${median(watched, 'fps').toFixed(1)} | | ratio **${ratio.toFixed(3)}** |`);
  if (name.startsWith('camera') && ratio < 0.9) missed = true;
}
console.log(`| source | round | FPS, no viewer | FPS, ${viewerCount} viewers | render p50 ms (0 / ${viewerCount}) | slowest viewer, frames/s |`);
console.log('|---|---|---|---|---|---|');
for (const row of table) console.log(row);
fs.rmSync(work, { recursive: true, force: true });
process.exit(missed ? 1 : 0);
