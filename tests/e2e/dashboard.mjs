// End-to-end test of `edgeperf dashboard` in headless Chromium (Playwright).
//   node tests/e2e/dashboard.mjs --edgeperf build/edgeperf --work-dir DIR
// Pro view on a scripted simulator, student view on a directory a concurrent
// `edgeperf log` fills, reports view; update rate and sample-to-screen latency
// measured in the browser; client limit, traversal, disconnect cleanup, signals.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const edgeperf = path.resolve(args.edgeperf ?? path.join(repo, 'build/edgeperf'));
const work = path.resolve(args['work-dir'] ?? fs.mkdtempSync('/tmp/edgeperf-dashboard-'));
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });

const { chromium } = await import(path.join(repo, 'node_modules/playwright-core/index.mjs'));
const { PNG } = (await import(path.join(repo, 'node_modules/pngjs/lib/png.js'))).default;

const children = [];
let browser = null;
async function cleanup() {
  if (browser) await browser.close().catch(() => {});
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
async function fail(message) {
  console.error(`dashboard: FAIL: ${message}`);
  for (const child of children) console.error(`--- ${child.label} stderr:\n${child.stderrText.slice(-2000)}`);
  await cleanup();
  process.exit(1);
}
// Never leave a server or logger behind, whatever fails.
process.on('exit', () => { for (const child of children) if (child.exitCode === null) child.kill('SIGKILL'); });
process.on('uncaughtException', (error) => fail(`uncaught: ${error.stack ?? error}`));
process.on('unhandledRejection', (error) => fail(`unhandled rejection: ${error?.stack ?? error}`));
const check = async (condition, message) => { if (!condition) await fail(message); };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) await fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function start(label, argv) {
  const child = spawn(edgeperf, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.label = label;
  child.stderrText = '';
  child.stdoutText = '';
  child.stderr.on('data', (chunk) => { child.stderrText += chunk; });
  child.stdout.on('data', (chunk) => { child.stdoutText += chunk; });
  children.push(child);
  return child;
}

// Raw GET that keeps the path byte for byte (no URL normalisation).
function get(port, target, { keepOpen = false } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: '127.0.0.1', port, path: target, agent: false }, (response) => {
      if (keepOpen) {
        response.once('data', () => resolve({ status: response.statusCode, request, response }));
        response.on('error', () => {});
        if (response.statusCode !== 200) {
          let body = '';
          response.on('data', (c) => { body += c; });
          response.on('end', () => resolve({ status: response.statusCode, body, request, response }));
        }
        return;
      }
      let body = '';
      response.on('data', (c) => { body += c; });
      response.on('end', () => resolve({ status: response.statusCode, body }));
    });
    request.on('error', reject);
    request.end();
  });
}
const getJson = async (port, target) => JSON.parse((await get(port, target)).body);

function exited(child, timeoutMs) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => resolve('timeout'), timeoutMs);
    child.once('exit', (code, signal) => { clearTimeout(timer); resolve(code ?? signal); });
  });
}

// A screenshot is non-blank when many pixels differ from the page background.
function nonBlankFraction(buffer) {
  const png = PNG.sync.read(buffer);
  const [r0, g0, b0] = png.data;
  let differing = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (Math.abs(png.data[i] - r0) + Math.abs(png.data[i + 1] - g0) + Math.abs(png.data[i + 2] - b0) > 30) differing++;
  }
  return differing / (png.width * png.height);
}

// --- start: pro dashboard on a scripted simulator, logger + student dashboard ---
const stillSeconds = 6, shakingSeconds = 4;
const portPro = await freePort();
const reportsDir = path.join(work, 'reports');
fs.mkdirSync(reportsDir);
fs.writeFileSync(path.join(reportsDir, 'demo.json'), JSON.stringify({
  schema: 'edgeperf.bench/1', system: { cpu_model: 'test cpu' },
  models: [{ label: 'digits_cnn', backend: 'reference', threads: 1, peak_rss_bytes: 52428800,
    accuracy: { top1: 0.975 }, batches: [{ batch: 1, throughput_inferences_per_s: 1234.5,
      latency_ms: { p50: 0.81, p90: 0.92 } }] }],
}));
fs.writeFileSync(path.join(reportsDir, 'not_a_report.json'), '{"schema": "other"}');
const pro = start('pro', ['dashboard', '--source', `sim:7:still=${stillSeconds},shaking=${shakingSeconds}`,
  '--port', String(portPro), '--reports', reportsDir]);
const logDir = path.join(work, 'log');
const logger = start('log', ['log', '--source', 'sim', '--rate', '50', '--out', logDir, '--chunk-secs', '1']);
await waitFor('the logger to write a chunk', 15000, async () =>
  fs.readdirSync(logDir, { recursive: true }).some((name) => String(name).endsWith('.parquet')));
const portStudent = await freePort();
const student = start('student', ['dashboard', '--source', `parquet:${logDir}`, '--port', String(portStudent)]);
await waitFor('the pro dashboard', 10000, async () => (await getJson(portPro, '/api/stats')).acquiring);
await waitFor('the student dashboard', 10000, async () => (await get(portStudent, '/api/stats')).status === 200);

browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });

// --- pro view ---
const page = await context.newPage();
const pageErrors = [];
page.on('pageerror', (error) => pageErrors.push(String(error)));
await page.goto(`http://127.0.0.1:${portPro}/pro`);
await waitFor('the first SSE events', 10000, () => page.evaluate(() => window.dashboard?.frames > 2));
const pageReadyServerMs = await page.evaluate(() => performance.timeOrigin + performance.now() - window.dashboard.offsetMs);
const kpiText = () => page.evaluate(() => ['kpi-rms', 'kpi-gyro', 'kpi-temp', 'kpi-tilt']
  .map((id) => document.getElementById(id).textContent).join('|'));
const kpisBefore = await kpiText();
const kpiStart = Date.now();
await waitFor('KPI values to change', 2000, async () => (await kpiText()) !== kpisBefore);
console.log(`dashboard: KPIs changed after ${Date.now() - kpiStart} ms (${kpisBefore} -> ${await kpiText()})`);

// Update rate and sample-to-screen latency over 10 s, measured in the page.
const before = await page.evaluate(() => ({ events: dashboard.events, t: performance.now(), n: dashboard.latenciesMs.length, frames: dashboard.frames }));
await sleep(10000);
const after = await page.evaluate(() => ({ events: dashboard.events, t: performance.now(), n: dashboard.latenciesMs.length, frames: dashboard.frames }));
const latencies = await page.evaluate((from) => dashboard.latenciesMs.slice(from), before.n);
const seconds = (after.t - before.t) / 1000;
const updatesPerSecond = (after.events - before.events) / seconds;
const framesPerSecond = (after.frames - before.frames) / seconds;
const sorted = [...latencies].sort((a, b) => a - b);
const pct = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
console.log(`dashboard: ${updatesPerSecond.toFixed(1)} updates/s, ${framesPerSecond.toFixed(1)} frames drawn/s over ${seconds.toFixed(1)} s (browser-measured)`);
console.log(`dashboard: sample-to-screen latency p50 ${pct(50).toFixed(1)} ms, p95 ${pct(95).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms (${sorted.length} frames)`);
await check(updatesPerSecond >= 20, `update rate ${updatesPerSecond.toFixed(1)}/s is below 20/s`);
await check(pct(95) < 100, `latency p95 ${pct(95).toFixed(1)} ms is not below 100 ms`);
await check(pct(0) > -5, `negative latency ${pct(0)} ms: clock offset estimate is wrong`);

// Motion state follows the simulator: SHAKING within 2 s of a still -> shaking switch.
const switchMs = await waitFor('a still->shaking switch after the page loaded', 3000 + 2000 * (stillSeconds + shakingSeconds), async () => {
  const { source_state_changes: changes } = await getJson(portPro, '/api/stats');
  const hit = changes.find((c, i) => c.state === 'SHAKING' && i > 0 && changes[i - 1].state === 'STILL' && c.ts_ms > pageReadyServerMs);
  return hit?.ts_ms;
});
const shownMs = await waitFor('the page to show SHAKING', 5000, () => page.evaluate((since) =>
  dashboard.stateChanges.find((c) => c.state === 'SHAKING' && c.shownServerMs >= since)?.shownServerMs, switchMs - 1000));
const detectMs = shownMs - switchMs;
console.log(`dashboard: SHAKING shown ${detectMs.toFixed(0)} ms after the simulator switched`);
await check(detectMs >= 0 && detectMs < 2000, `SHAKING shown ${detectMs.toFixed(0)} ms after the switch (limit 2000)`);
const cubeMode = await page.evaluate(() => dashboard.cube);
console.log(`dashboard: orientation cube drawn with ${cubeMode}`);
const proShot = await page.screenshot({ path: path.join(work, 'pro.png') });
const proInk = nonBlankFraction(proShot);
await check(proInk > 0.02, `pro screenshot looks blank (${(proInk * 100).toFixed(2)} % non-background)`);
await check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);

// --- student view ---
const studentPage = await context.newPage();
studentPage.on('pageerror', (error) => pageErrors.push(String(error)));
await studentPage.goto(`http://127.0.0.1:${portStudent}/student`);
await waitFor('rows in the student view', 10000, () => studentPage.evaluate(() => window.student?.rows > 0));
const loggedFiles = fs.readdirSync(logDir, { recursive: true }).filter((n) => String(n).endsWith('.parquet'));
const first = await studentPage.evaluate(() => ({ ...window.student }));
console.log(`dashboard: student view shows ${first.rows} rows from ${loggedFiles.length} chunks`);
await check(Math.abs(first.newestTsMs - Date.now()) < 5000, `student newest row is ${Date.now() - first.newestTsMs} ms old`);
// The rows shown are the logger's: every row of an older complete chunk, read back with
// nodejs-polars, appears in the page with the same timestamp and accel_x value.
const pl = (await import(path.join(repo, 'node_modules/nodejs-polars/bin/index.js'))).default;
const chunkFiles = loggedFiles.map(String).sort();
const probeFile = path.join(logDir, chunkFiles[Math.max(0, chunkFiles.length - 3)]);
const probe = pl.readParquet(probeFile);
const probeTs = probe.getColumn('ts_ns').toArray().map((d) => d.getTime());
const probeValues = probe.getColumn('accel_x').toArray();
const shown = await studentPage.evaluate(() => ({ axis: student.axis, ts: student.ts, values: student.values }));
await check(shown.axis === 'accel_x', `student default axis is ${shown.axis}`);
const missing = probeTs.filter((t, i) => !shown.ts.some((s, j) => Math.abs(s - t) < 1 && Math.abs(shown.values[j] - probeValues[i]) < 1e-6));
await check(probeTs.length > 0 && missing.length === 0,
  `${missing.length} of ${probeTs.length} rows of ${path.basename(probeFile)} are not in the student view`);
console.log(`dashboard: all ${probeTs.length} rows of ${path.basename(probeFile)} (read back with polars) are in the student view`);
// Drop a malformed chunk that sorts newest; the view must keep updating.
const partition = path.dirname(path.join(logDir, String(loggedFiles[0])));
const badChunk = path.join(partition, 'part-9999999999999999999-0.parquet');
fs.writeFileSync(badChunk, 'PAR1 this is not a parquet file PAR1');
await sleep(3000);
const later = await studentPage.evaluate(() => ({ ...window.student }));
await check(later.fetches >= first.fetches + 4, `student view stopped refreshing (${first.fetches} -> ${later.fetches})`);
await check(later.errors === first.errors, `student view fetch errors after the malformed chunk: ${later.lastError}`);
await check(later.newestTsMs > first.newestTsMs, 'student view newest row did not advance');
const warnings = student.stderrText.split('\n').filter((l) => l.includes('malformed') && l.includes(badChunk));
await check(warnings.length === 1, `expected one warning naming the malformed chunk, got ${warnings.length}`);
const axisValues = await studentPage.evaluate(async () => {
  document.getElementById('axis').value = 'gyro_z';
  document.getElementById('axis').dispatchEvent(new Event('change'));
  await new Promise((r) => setTimeout(r, 1200));
  return document.querySelector('#chart .u-title')?.textContent;
});
await check(axisValues === 'gyro_z', `axis selection did not switch the chart (${axisValues})`);
const studentShot = await studentPage.screenshot({ path: path.join(work, 'student.png') });
const studentInk = nonBlankFraction(studentShot);
await check(studentInk > 0.02, `student screenshot looks blank (${(studentInk * 100).toFixed(2)} %)`);

// --- reports view ---
const reportsPage = await context.newPage();
await reportsPage.goto(`http://127.0.0.1:${portPro}/reports`);
await waitFor('the report table', 5000, () => reportsPage.evaluate(() => document.querySelectorAll('#table tbody tr').length === 1));
const reportRow = await reportsPage.evaluate(() => [...document.querySelectorAll('#table tbody td')].map((td) => td.textContent));
await check(reportRow[0] === 'digits_cnn' && reportRow[4] === '0.810' && reportRow[8] === '97.5 %', `report row ${reportRow}`);
const listed = await getJson(portPro, '/api/reports');
await check(listed.reports.length === 1, `expected 1 listed report, got ${JSON.stringify(listed)}`);
await check(pageErrors.length === 0, `page errors: ${pageErrors.join('; ')}`);
await context.close();

// --- disconnects, client limit, traversal ---
await waitFor('active clients to return to 0 after the pages closed', 10000, async () =>
  (await getJson(portPro, '/api/stats')).active_clients === 0);
const { threads: threadsIdle, max_clients: maxClients, rss_kib: rssIdle } = await getJson(portPro, '/api/stats');
// Two rounds of connect/disconnect first, so the last round shows whether memory keeps growing.
const openStreams = (n) => Promise.all(Array.from({ length: n }, () => get(portPro, '/api/stream', { keepOpen: true })));
for (let round = 0; round < 2; round++) {
  for (const s of await openStreams(maxClients)) s.request.destroy();
  await waitFor('clients to drain', 10000, async () => (await getJson(portPro, '/api/stats')).active_clients === 0);
}
const { rss_kib: rssChurned } = await getJson(portPro, '/api/stats');
const opened = await openStreams(maxClients);
await check(opened.every((s) => s.status === 200), `some of ${maxClients} stream clients were refused`);
const busy = await getJson(portPro, '/api/stats');
await check(busy.active_clients === maxClients, `active_clients ${busy.active_clients}, expected ${maxClients}`);
const extra = await get(portPro, '/api/stream', { keepOpen: true });
console.log(`dashboard: ${maxClients} stream clients open, client ${maxClients + 1} got HTTP ${extra.status}`);
await check(extra.status === 503, `client ${maxClients + 1} got HTTP ${extra.status}, expected 503`);
for (const s of opened) s.request.destroy();
const drainStart = Date.now();
await waitFor('active clients to return to 0 after disconnects', 10000, async () =>
  (await getJson(portPro, '/api/stats')).active_clients === 0);
const { threads: threadsAfter, rss_kib: rssAfter } = await getJson(portPro, '/api/stats');
console.log(`dashboard: clients back to 0 in ${Date.now() - drainStart} ms; threads ${threadsIdle} before, ${threadsAfter} after; ` +
  `RSS ${rssIdle} KiB idle, ${rssChurned} KiB after 2 rounds of ${maxClients} clients, ${rssAfter} KiB after the 3rd`);
// Allocator caches settle after the first rounds; a leak per client would keep growing.
await check(rssAfter - rssChurned < 8192, `RSS grew by ${rssAfter - rssChurned} KiB over one more round of ${maxClients} clients`);
await check(threadsAfter <= threadsIdle, `threads grew from ${threadsIdle} to ${threadsAfter}`);

for (const [target, expected] of [['/static/style.css', 200], ['/vendor/three/three.module.js', 200],
  ['/vendor/uplot/uPlot.iife.min.js', 200], ['/api/reports/demo.json', 200]]) {
  const { status } = await get(portPro, target);
  await check(status === expected, `${target}: HTTP ${status}, expected ${expected}`);
}
const traversals = ['/static/../../../../etc/passwd', '/static/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/static/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/static/..%2f..%2f..%2f..%2fetc/passwd',
  '/static/%2E%2E%2F%2E%2E%2Fpackage.json', '/static/%252e%252e%252f%252e%252e%252fpackage.json',
  '/static/..%5c..%5cpackage.json', '/static/%c0%ae%c0%ae/%c0%ae%c0%ae/package.json',
  '/vendor/three/..%2f..%2f..%2fpackage.json', '/vendor/uplot/../../../package.json',
  '/api/reports/..%2fdemo.json', '/api/reports/%2e%2e%2f%2e%2e%2fpackage.json',
  '/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/static/./style.css', '/static//etc/passwd',
  '/static/%00style.css'];
for (const target of traversals) {
  const { status, body } = await get(portPro, target);
  await check(status === 404, `${target}: HTTP ${status}, expected 404`);
  await check(!body.includes('root:') && !body.includes('"dependencies"'), `${target} leaked a file`);
}
console.log(`dashboard: ${traversals.length} traversal attempts all got 404`);

// --- a non-loopback --bind is explicit and warns (stopped as soon as it listens) ---
const exposed = start('bind', ['dashboard', '--bind', '0.0.0.0', '--port', '0', '--source', 'sim']);
await waitFor('the 0.0.0.0 dashboard to listen', 10000, async () => exposed.stdoutText.includes('http://0.0.0.0:'));
exposed.kill('SIGTERM');
await check((await exited(exposed, 8000)) === 0, 'the 0.0.0.0 dashboard did not stop cleanly');
await check(/warning: .*0\.0\.0\.0.*reachable/.test(exposed.stderrText), `no warning for --bind 0.0.0.0: ${exposed.stderrText}`);
await check(!pro.stderrText.includes('warning'), `the loopback dashboard warned: ${pro.stderrText}`);

// --- signals: both dashboards and the logger stop cleanly ---
pro.kill('SIGTERM');
student.kill('SIGINT');
logger.kill('SIGINT');
const codes = await Promise.all([exited(pro, 8000), exited(student, 8000), exited(logger, 8000)]);
await check(codes.every((c) => c === 0), `exit codes after SIGTERM/SIGINT: ${codes.join(', ')}`);
await cleanup();
console.log('dashboard: OK');
