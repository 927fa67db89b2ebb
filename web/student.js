// Student view: a rolling window of one axis from the Parquet chunks on disk.
import { chartWidth, darkAxes } from '/static/common.js';

const state = window.student = { fetches: 0, errors: 0, rows: 0, newestTsMs: null, lastError: null };
const axisSelect = document.getElementById('axis');
const secondsSelect = document.getElementById('seconds');
const element = document.getElementById('chart');

function makeChart(axis) {
  element.replaceChildren();
  return new uPlot({
    title: axis, width: chartWidth(element), height: 360,
    series: [{}, { label: axis, stroke: '#4fc3f7', width: 1.3 }],
    axes: darkAxes(), scales: { x: { time: true } }, cursor: { show: false },
  }, [[], []], element);
}

let chart = makeChart(axisSelect.value);
axisSelect.addEventListener('change', () => { chart = makeChart(axisSelect.value); refresh(); });
secondsSelect.addEventListener('change', () => refresh());

async function refresh() {
  const axis = axisSelect.value;
  try {
    const response = await fetch(`/api/chunks?axis=${axis}&seconds=${secondsSelect.value}`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    if (axis !== axisSelect.value) return;  // the axis changed while fetching
    chart.setData([body.ts_ms.map((t) => t / 1000), body.values]);
    state.fetches++;
    state.rows = body.rows;
    state.axis = body.axis;
    state.ts = body.ts_ms;
    state.values = body.values;
    state.newestTsMs = body.rows ? body.ts_ms[body.rows - 1] : null;
    document.getElementById('rows').textContent = String(body.rows);
    document.getElementById('newest').textContent =
      state.newestTsMs ? new Date(state.newestTsMs).toISOString().slice(11, 23) : '–';
    document.getElementById('files').textContent =
      body.source === 'parquet' ? `${body.files_read} / ${body.files_skipped}` : 'ring buffer';
    document.getElementById('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    state.errors++;
    state.lastError = String(error);
    document.getElementById('status').textContent = `error: ${error.message}`;
  }
}

refresh();
setInterval(refresh, 500);
