// End-to-end check of `edgeperf bench` reports: the JSON validates against its schema,
// every format carries the comparison, and the HTML charts really draw in headless
// Chromium (each chart's screenshot has a non-blank region, no console errors); at 20
// models no two labels of a chart overlap and the table sorts by a clicked column.
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
if (/(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:|<script[^>]*\ssrc=/i.test(html)) {
  fail('the HTML report must be self-contained (inline scripts and styles, nothing loaded)');
}

// A 20-variant report, as the demo's MobileNetV2 table has: long labels, latencies from
// one to ten times the measured ones, sizes spread the same way.
const wide = JSON.parse(JSON.stringify(report));
wide.models = Array.from({ length: 20 }, (_, i) => {
  const m = JSON.parse(JSON.stringify(report.models[i % 2]));
  const scale = 1 + (i * 9) / 19;
  m.label = `mobilenet_v2_variant_${String(i).padStart(2, '0')}_${['fp32', 'int8', 'int4', 'fp16'][i % 4]}@${m.threads}t`;
  m.file_bytes = Math.round(m.file_bytes * (1 + ((i * 7) % 20) / 4));
  const b = m.batches[0];
  b.raw_latencies_ms = b.raw_latencies_ms.map((v) => v * scale);
  for (const k of Object.keys(b.latency_ms)) {
    if (typeof b.latency_ms[k] === 'number' && k !== 'cv') b.latency_ms[k] *= scale;
  }
  return m;
});
fs.writeFileSync(out('wide.json'), JSON.stringify(wide));
execFileSync(edgeperf, ['report', out('wide.json'), '--html', out('wide.html')], { stdio: ['ignore', 'pipe', 'inherit'] });

// 4. The charts draw: screenshot each chart, count non-white pixels.
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
try {
  const open = async (file) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems = [];
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`file://${out(file)}`);
    await page.waitForTimeout(200);
    await page.screenshot({ path: out(file.replace('.html', '.png')), fullPage: true });
    if (problems.length) fail(`${file}: console errors: ${problems.join(' | ')}`);
    return page;
  };
  // No two labels of one chart overlap, and the bar charts show every model's label.
  const overlaps = async (page, chart) => page.evaluate((id) => {
    const boxes = [...document.querySelectorAll(`#${id} .bar-label, #${id} .point-label`)]
      .map((e) => ({ text: e.textContent, r: e.getBoundingClientRect() }))
      .filter((b) => b.r.width > 0 && b.r.height > 0);
    const hits = [];
    for (let i = 0; i < boxes.length; i++) {
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i].r, b = boxes[j].r;
        if (a.left < b.right - 0.5 && a.right > b.left + 0.5 && a.top < b.bottom - 0.5 && a.bottom > b.top + 0.5) {
          hits.push(`${boxes[i].text} / ${boxes[j].text}`);
        }
      }
    }
    return { count: boxes.length, hits };
  }, chart);
  const widePage = await open('wide.html');
  for (const chart of ['latency-bars', 'pareto']) {
    const { count, hits } = await overlaps(widePage, chart);
    console.log(`wide.html #${chart}: ${count} labels, ${hits.length} overlapping`);
    if (hits.length) fail(`#${chart}: overlapping labels: ${hits.slice(0, 3).join('; ')}`);
    if (chart === 'latency-bars' && count !== 20) fail(`#latency-bars shows ${count} of 20 labels`);
    if (chart === 'pareto' && count < 10) fail(`#pareto places only ${count} of 20 labels`);
  }
  const sortedAsc = await widePage.evaluate(() => {
    const th = [...document.querySelectorAll('table th')].find((h) => h.textContent === 'p50 ms');
    th.click();
    const column = [...th.parentNode.children].indexOf(th);
    const values = [...th.closest('table').querySelectorAll('tr')].slice(1).map((r) => parseFloat(r.children[column].textContent));
    return values.every((v, i) => i === 0 || values[i - 1] <= v);
  });
  if (!sortedAsc) fail('clicking the p50 header does not sort the table');
  const page = await open('report.html');
  for (const id of ['latency-cdf', 'latency-bars', 'pareto', 'accuracy']) {
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
