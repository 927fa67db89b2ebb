// End-to-end check of `edgeperf bench` reports: the JSON validates against its schema,
// every format carries the comparison, and the HTML charts really draw in headless
// Chromium (each chart's screenshot has a non-blank region).
//   node tests/e2e/bench_report.mjs --edgeperf build/edgeperf --work-dir DIR
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith('--') ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
const edgeperf = args.edgeperf;
const work = args['work-dir'] ?? fs.mkdtempSync('/tmp/edgeperf-report-');
fs.mkdirSync(work, { recursive: true });

function fail(message) {
  console.error(`bench_report: FAIL: ${message}`);
  process.exit(1);
}

const { chromium } = await import(path.join(repo, 'node_modules/playwright-core/index.mjs'));
const { PNG } = (await import(path.join(repo, 'node_modules/pngjs/lib/png.js'))).default;
const Ajv = (await import(path.join(repo, 'node_modules/ajv/dist/ajv.js'))).default;

// 1. A comparison of the trained fixture at 1 and 2 threads, with accuracy.
const out = (name) => path.join(work, name);
execFileSync(edgeperf, ['bench', path.join(repo, 'models/fixtures/digits_cnn.onnx'), '--threads', '1,2',
  '--runs', '60', '--warmup', '5', '--data', path.join(repo, 'models/fixtures/digits_eval'),
  '--json', out('report.json'), '--md', out('report.md'), '--csv', out('report.csv'), '--html', out('report.html')],
  { stdio: ['ignore', 'pipe', 'inherit'] });

// 2. Schema.
const schema = JSON.parse(fs.readFileSync(path.join(repo, 'docs/schema/edgeperf.bench-1.schema.json'), 'utf8'));
const report = JSON.parse(fs.readFileSync(out('report.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
if (!validate(report)) fail(`report.json does not match its schema: ${JSON.stringify(validate.errors.slice(0, 3))}`);
if (report.models.length !== 2) fail(`expected 2 model variants, got ${report.models.length}`);
if (report.models[0].accuracy.top1_correct !== report.models[1].accuracy.top1_correct) {
  fail('accuracy differs between thread counts');
}

// 3. Every format carries the Pareto set, the recommendations and the events.
const markdown = fs.readFileSync(out('report.md'), 'utf8');
const html = fs.readFileSync(out('report.html'), 'utf8');
const csv = fs.readFileSync(out('report.csv'), 'utf8');
for (const needle of ['on_pareto_frontier', 'recommended_for', 'rank_latency-sprint', 'rank_all-around']) {
  if (!csv.includes(needle)) fail(`csv report lacks '${needle}'`);
}
for (const [name, text] of [['markdown', markdown], ['html', html]]) {
  for (const needle of ['Pareto', 'latency_critical', 'latency-sprint', 'all-around', 'digits_cnn@2t']) {
    if (!text.includes(needle)) fail(`${name} report lacks '${needle}'`);
  }
}
if (!report.comparison.events.some((e) => e.event === 'latency-sprint' && e.ranking[0].eligible)) {
  fail('latency-sprint has no eligible model although accuracy was measured');
}
if (/<script|https?:\/\//i.test(html.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, ''))) {
  fail('the HTML report must be self-contained (no scripts, no network URLs)');
}

// 4. The charts draw: screenshot each chart, count non-white pixels.
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`file://${out('report.html')}`);
  await page.screenshot({ path: out('report.png'), fullPage: true });
  for (const id of ['latency-cdf', 'latency-bars', 'pareto']) {
    const png = PNG.sync.read(await page.locator(`#${id}`).screenshot());
    let inked = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      if (png.data[i] < 200 || png.data[i + 1] < 200 || png.data[i + 2] < 200) inked++;
    }
    const fraction = inked / (png.width * png.height);
    console.log(`chart ${id}: ${png.width}x${png.height}, ${(100 * fraction).toFixed(2)}% inked`);
    if (fraction < 0.005) fail(`chart ${id} looks blank (${inked} inked pixels)`);
  }
} finally {
  await browser.close();
}
console.log(`bench_report: ok (reports in ${work})`);
