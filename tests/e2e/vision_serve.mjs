// `edgeperf vision --serve` in headless Chromium (Playwright): frames change on the page,
// the overlay labels and the stage chart are drawn, no page errors; 20 viewers at once
// all receive frames; SIGINT ends the run with its statistics written.
//   node tests/e2e/vision_serve.mjs --edgeperf build/edgeperf --work-dir DIR
// The FPS cost of 20 viewers is measured by bench/vision/serve_viewers.mjs.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const edgeperf = path.resolve(args.edgeperf ?? path.join(repo, 'build/edgeperf'));
const work = path.resolve(args['work-dir'] ?? fs.mkdtempSync('/tmp/edgeperf-vision-serve-'));
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const { chromium } = await import(path.join(repo, 'node_modules/playwright-core/index.mjs'));

let server = null;
let browser = null;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function fail(message) {
  console.error(`vision_serve: FAIL: ${message}`);
  if (server) console.error(`--- edgeperf stderr:\n${server.stderrText.slice(-2000)}`);
  if (browser) await browser.close().catch(() => {});
  if (server && server.exitCode === null) server.kill('SIGKILL');
  process.exit(1);
}
process.on('exit', () => { if (server && server.exitCode === null) server.kill('SIGKILL'); });
process.on('unhandledRejection', (error) => fail(`unhandled rejection: ${error?.stack ?? error}`));
const check = async (condition, message) => {
  if (!condition) await fail(message);
  console.log(`ok   ${message}`);
};
async function waitFor(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) await fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

const model = path.join(work, 'mobilenet_v2.onnx');
execFileSync(edgeperf, ['zoo', 'mobilenet_v2', '-o', model]);
const labels = path.join(work, 'labels.txt');
fs.writeFileSync(labels, Array.from({ length: 1000 }, (_, i) => `label-${i}`).join('\n') + '\n');
const stats = path.join(work, 'stats.json');
server = spawn(edgeperf, ['vision', '--model', model, '--source', 'synthetic:640x480@30', '--serve', '0',
  '--threads', '2', '--labels', labels, '--json', stats], { stdio: ['ignore', 'pipe', 'pipe'] });
server.stderrText = '';
server.stdoutText = '';
server.stderr.on('data', (chunk) => { server.stderrText += chunk; });
server.stdout.on('data', (chunk) => { server.stdoutText += chunk; });
const url = await waitFor('the live view URL', 20000,
  async () => /live view at (http:\/\/\S+)/.exec(server.stdoutText)?.[1]);
const port = Number(new URL(url).port);

browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));
page.on('console', (message) => { if (message.type() === 'error') pageErrors.push(message.text()); });
await page.goto(url);
await waitFor('frames on the page', 15000, () => page.evaluate(() => window.visionView?.framesShown >= 10));

// Frames change: the frame canvas differs between two moments (the pattern moves).
const frameDigest = () => page.evaluate(() => {
  const canvas = document.getElementById('frame');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let hash = 0;
  for (let i = 0; i < data.length; i += 97) hash = (hash * 31 + data[i]) >>> 0;
  return { hash, shown: window.visionView.framesShown, width: canvas.width };
});
const first = await frameDigest();
await sleep(1000);
const second = await frameDigest();
await check(second.shown - first.shown >= 5 && second.hash !== first.hash && first.width === 640,
  `frames change on the page (${second.shown - first.shown} drawn in 1 s, 640 px wide)`);

// The overlay: the top label drawn over the frame, and listed beside it.
const overlay = await page.evaluate(() => {
  const canvas = document.getElementById('overlay');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) painted += data[i] > 0;
  return { painted, first: document.querySelector('#results li')?.textContent ?? '' };
});
await check(overlay.painted > 500 && /^label-\d+ \d+\.\d%$/.test(overlay.first),
  `overlay drawn (${overlay.painted} pixels) with the labels file's names ("${overlay.first}")`);

// The stage chart: uPlot's canvas has lines, and its data grows.
const chart = () => page.evaluate(() => {
  const canvas = document.querySelector('#chart-stages canvas');
  if (!canvas) return null;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const colours = new Set();
  for (let i = 0; i < data.length; i += 4 * 13) colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  return { colours: colours.size, events: window.visionView.eventsSeen };
});
const chartBefore = await chart();
await sleep(500);
const chartAfter = await chart();
await check(chartBefore && chartBefore.colours > 4 && chartAfter.events > chartBefore.events,
  `stage chart drawn (${chartBefore?.colours} colours) and updating (${chartAfter?.events} events)`);
const latest = await page.evaluate(() => window.visionView.lastEvent);
await check(['capture', 'preprocess', 'infer', 'to_view'].every((s) => Number.isFinite(latest.stages_ms[s])) &&
  latest.fps > 0, `events carry stage times and FPS (${latest.fps.toFixed(1)})`);

// 20 viewers at once: each gets frames (multipart parts) and events.
function viewer(target, seconds) {
  return new Promise((resolve) => {
    let parts = 0;
    let bytes = 0;
    const request = http.get({ host: '127.0.0.1', port, path: target, agent: false }, (response) => {
      response.on('data', (chunk) => {
        bytes += chunk.length;
        parts += chunk.toString('latin1').split(target.endsWith('frames') ? '--edgeperf-frame' : 'data: ').length - 1;
      });
    });
    request.on('error', () => {});
    setTimeout(() => { request.destroy(); resolve({ parts, bytes, status: request.res?.statusCode }); }, seconds * 1000);
  });
}
const viewers = await Promise.all([...Array.from({ length: 20 }, () => viewer('/api/vision/frames', 3)),
  ...Array.from({ length: 20 }, () => viewer('/api/vision/events', 3))]);
const frameCounts = viewers.slice(0, 20).map((v) => v.parts);
const eventCounts = viewers.slice(20).map((v) => v.parts);
await check(frameCounts.every((n) => n >= 10) && eventCounts.every((n) => n >= 10),
  `20 viewers each got frames (min ${Math.min(...frameCounts)}) and events (min ${Math.min(...eventCounts)}) in 3 s`);
await check(pageErrors.length === 0 && (await page.evaluate(() => window.visionView.errors)).length === 0,
  `no page errors${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
await browser.close();
browser = null;

server.kill('SIGINT');
const code = await new Promise((resolve) => server.on('exit', (c) => resolve(c)));
const summary = JSON.parse(fs.readFileSync(stats, 'utf8'));
await check(code === 0 && summary.frames_processed > 100 &&
  summary.frames_processed + summary.frames_dropped === summary.frames_captured,
  `SIGINT: exit 0, statistics written (${summary.frames_processed} processed, ${summary.frames_dropped} dropped, ${summary.fps.toFixed(1)} FPS)`);
console.log('vision_serve: all checks passed');
