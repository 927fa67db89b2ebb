// Reports view: edgeperf.bench/1 JSON files as a table of models.
import { format } from '/static/common.js';

function cell(text) {
  const td = document.createElement('td');
  td.textContent = text;
  return td;
}

function rowsOf(report) {
  const rows = [];
  for (const model of report.models ?? []) {
    for (const batch of model.batches ?? []) {
      const top1 = model.accuracy && Number.isFinite(model.accuracy.top1)
        ? `${format(model.accuracy.top1 * 100, 1)} %` : '–';
      rows.push([model.label, model.backend, String(model.threads), String(batch.batch),
        format(batch.latency_ms?.p50, 3), format(batch.latency_ms?.p90, 3),
        format(batch.throughput_inferences_per_s, 1),
        format(model.peak_rss_bytes / 2 ** 20, 1), top1]);
    }
  }
  return rows;
}

async function show(name) {
  const response = await fetch(`/api/reports/${encodeURIComponent(name)}`);
  const body = document.querySelector('#table tbody');
  body.replaceChildren();
  if (!response.ok) {
    document.getElementById('title').textContent = `${name}: HTTP ${response.status}`;
    return;
  }
  const report = await response.json();
  document.getElementById('title').textContent = `${name} — ${report.system?.cpu_model ?? ''}`;
  for (const values of rowsOf(report)) {
    const tr = document.createElement('tr');
    for (const value of values) tr.append(cell(value));
    body.append(tr);
  }
}

async function load() {
  const response = await fetch('/api/reports');
  const { reports } = await response.json();
  const list = document.getElementById('list');
  document.getElementById('status').textContent = `${reports.length} report(s)`;
  for (const report of reports) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.textContent = report.name;
    link.addEventListener('click', () => show(report.name));
    item.append(link);
    list.append(item);
  }
  if (reports.length) await show(reports[0].name);
  window.reportsLoaded = true;
}

load();
