// Live view of `edgeperf vision --serve`: frames from the MJPEG stream drawn on a canvas,
// results (labels, boxes) drawn over them from the event stream, stage times in uPlot.
import { darkAxes, format } from './common.js';

const frameCanvas = document.getElementById('frame');
const overlay = document.getElementById('overlay');
const state = { framesShown: 0, eventsSeen: 0, lastEvent: null, errors: [] };
window.visionView = state;  // read by the e2e test

// Parts of multipart/x-mixed-replace, each with a Content-Length header.
async function readFrames() {
  const response = await fetch('/api/vision/frames');
  if (!response.ok) throw new Error(`frames: HTTP ${response.status}`);
  const reader = response.body.getReader();
  let buffer = new Uint8Array(0);
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const joined = new Uint8Array(buffer.length + value.length);
    joined.set(buffer);
    joined.set(value, buffer.length);
    buffer = joined;
    for (;;) {
      const headerEnd = indexOf(buffer, [13, 10, 13, 10]);
      if (headerEnd < 0) break;
      const header = decoder.decode(buffer.subarray(0, headerEnd));
      const length = Number(/Content-Length:\s*(\d+)/i.exec(header)?.[1]);
      if (!Number.isFinite(length)) throw new Error('frames: part without Content-Length');
      const start = headerEnd + 4;
      if (buffer.length < start + length + 2) break;
      const jpeg = buffer.slice(start, start + length);
      buffer = buffer.slice(start + length + 2);
      const bitmap = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
      if (frameCanvas.width !== bitmap.width || frameCanvas.height !== bitmap.height) {
        frameCanvas.width = overlay.width = bitmap.width;
        frameCanvas.height = overlay.height = bitmap.height;
      }
      frameCanvas.getContext('2d').drawImage(bitmap, 0, 0);
      bitmap.close();
      state.framesShown += 1;
    }
  }
}

function indexOf(bytes, pattern) {
  outer: for (let i = 0; i + pattern.length <= bytes.length; i += 1) {
    for (let j = 0; j < pattern.length; j += 1) if (bytes[i + j] !== pattern[j]) continue outer;
    return i;
  }
  return -1;
}

function drawOverlay(event) {
  const context = overlay.getContext('2d');
  context.clearRect(0, 0, overlay.width, overlay.height);
  const sx = overlay.width / event.width;
  const sy = overlay.height / event.height;
  context.font = `${Math.max(12, overlay.height / 30)}px system-ui, sans-serif`;
  context.textBaseline = 'top';
  const tag = (text, x, y) => {
    const width = context.measureText(text).width + 8;
    context.fillStyle = 'rgba(0, 0, 0, 0.65)';
    context.fillRect(x, y, width, overlay.height / 30 + 6);
    context.fillStyle = '#fff';
    context.fillText(text, x + 4, y + 3);
  };
  if (event.task === 'classify' && event.top.length > 0) {
    const best = event.top[0];
    tag(`${best.label} ${(100 * best.probability).toFixed(1)}%`, 8, overlay.height / 40 + 8);
  }
  for (const d of event.detections) {
    tag(`${d.label} ${d.score.toFixed(2)}`, d.box[0] * sx, Math.max(0, d.box[1] * sy));
  }
}

function showResults(event) {
  document.getElementById('task').textContent = event.task;
  const list = document.getElementById('results');
  const rows = event.task === 'detect'
    ? event.detections.slice(0, 10).map((d) => `${d.label} ${d.score.toFixed(2)}`)
    : event.top.map((t) => `${t.label} ${(100 * t.probability).toFixed(1)}%`);
  list.replaceChildren(...rows.map((text) => {
    const item = document.createElement('li');
    item.textContent = text;
    return item;
  }));
}

const stages = ['capture', 'preprocess', 'infer', 'to_view'];
const colors = ['#8a94a3', '#ffca28', '#4fc3f7', '#ef5350'];
const keep = 300;
const series = [[], ...stages.map(() => [])];
const chartElement = document.getElementById('chart-stages');
const chart = new uPlot({
  title: 'stage time per frame (ms)',
  width: Math.max(300, chartElement.clientWidth - 16),
  height: 260,
  scales: { x: { time: false } },
  axes: darkAxes(),
  series: [{ label: 'frame' }, ...stages.map((stage, i) => ({ label: stage, stroke: colors[i], width: 1.5 }))],
}, series, chartElement);

function addTimes(event) {
  series[0].push(event.frame);
  stages.forEach((stage, i) => series[i + 1].push(event.stages_ms[stage]));
  if (series[0].length > keep) for (const column of series) column.shift();
  chart.setData(series);
}

function listen() {
  const events = new EventSource('/api/vision/events');
  events.onopen = () => { document.getElementById('conn').textContent = 'live'; };
  events.onerror = () => { document.getElementById('conn').textContent = 'reconnecting…'; };
  events.onmessage = (message) => {
    const event = JSON.parse(message.data);
    state.eventsSeen += 1;
    state.lastEvent = event;
    document.getElementById('fps').textContent = format(event.fps, 1);
    document.getElementById('dropped').textContent = event.dropped;
    document.getElementById('captured').textContent = event.captured;
    document.getElementById('latency').textContent = format(event.stages_ms.to_view, 1);
    document.getElementById('viewers').textContent = event.viewers;
    drawOverlay(event);
    showResults(event);
    addTimes(event);
  };
}

listen();
readFrames().catch((error) => {
  state.errors.push(String(error));
  document.getElementById('conn').textContent = `frames stopped: ${error.message}`;
});
