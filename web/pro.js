// Pro view: SSE stream of IMU samples into uPlot charts, KPI cards and a 3D cube.
// Sample-to-screen latency = time the frame that draws a sample finished, on the
// server clock (offset estimated from the SSE send timestamps), minus the sample's
// timestamp. The offset estimate is min(receive - send): the one-way delay is >= 0,
// so the smallest difference is the closest to the true clock offset.
import { axisColors, chartWidth, darkAxes, format } from '/static/common.js';

const kWindowSeconds = 10;
const kLatencyKeep = 5000;

// Exposed for tests and for the curious: everything here is measured in this page.
const stats = window.dashboard = {
  events: 0, frames: 0, offsetMs: Infinity, latenciesMs: [], stateChanges: [],
  lastState: null, lastKpis: null, cube: 'none',
};

const data = { t: [], ax: [], ay: [], az: [], gx: [], gy: [], gz: [], temp: [] };
let pendingNewestTs = null;
let pendingKpis = null;

function makeChart(elementId, title, unit, labels, colors) {
  const element = document.getElementById(elementId);
  const series = [{}].concat(labels.map((label, i) => ({ label, stroke: colors[i], width: 1.2 })));
  const axes = darkAxes();
  axes[1].label = unit;
  axes[1].labelGap = 2;
  return new uPlot({
    title, width: chartWidth(element), height: 170, series, axes,
    scales: { x: { time: true } }, legend: { live: false },
    cursor: { show: false },
  }, [[], ...labels.map(() => [])], element);
}

const charts = {
  accel: makeChart('chart-accel', 'Acceleration', 'm/s²', ['x', 'y', 'z'], axisColors),
  gyro: makeChart('chart-gyro', 'Angular rate', '°/s', ['x', 'y', 'z'], axisColors),
  temp: makeChart('chart-temp', 'Temperature', '°C', ['temp'], ['#ffa726']),
};

window.addEventListener('resize', () => {
  for (const [id, chart] of [['chart-accel', charts.accel], ['chart-gyro', charts.gyro], ['chart-temp', charts.temp]]) {
    chart.setSize({ width: chartWidth(document.getElementById(id)), height: 170 });
  }
});

function appendSamples(samples) {
  for (const [ts, ax, ay, az, gx, gy, gz, temp] of samples) {
    data.t.push(ts / 1000); data.ax.push(ax); data.ay.push(ay); data.az.push(az);
    data.gx.push(gx); data.gy.push(gy); data.gz.push(gz); data.temp.push(temp);
  }
  const newest = data.t[data.t.length - 1];
  let drop = 0;
  while (drop < data.t.length && data.t[drop] < newest - kWindowSeconds) drop++;
  if (drop > 0) for (const key of Object.keys(data)) data[key].splice(0, drop);
}

function nowWallMs() {
  return performance.timeOrigin + performance.now();
}

function onEvent(message) {
  const received = nowWallMs();
  const event = JSON.parse(message.data);
  stats.offsetMs = Math.min(stats.offsetMs, received - event.send_ts_ms);
  stats.events++;
  stats.eventTimes.push(performance.now());
  appendSamples(event.samples);
  pendingNewestTs = event.newest_ts_ms;
  pendingKpis = event.kpis;
}
stats.eventTimes = [];

function showKpis(kpis) {
  document.getElementById('kpi-rms').textContent = format(kpis.rms_accel_ms2, 2);
  document.getElementById('kpi-gyro').textContent = format(kpis.peak_gyro_dps, 1);
  document.getElementById('kpi-temp').textContent = format(kpis.temperature_c, 2);
  document.getElementById('kpi-tilt').textContent =
    `${format(kpis.pitch_deg, 1)} / ${format(kpis.roll_deg, 1)}`;
  const state = document.getElementById('kpi-state');
  state.textContent = kpis.state;
  state.className = `state-${kpis.state}`;
  if (kpis.state !== stats.lastState) {
    stats.stateChanges.push({ state: kpis.state, shownServerMs: nowWallMs() - stats.offsetMs });
    stats.lastState = kpis.state;
  }
  stats.lastKpis = kpis;
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

function showRates() {
  const now = performance.now();
  while (stats.eventTimes.length && stats.eventTimes[0] < now - 1000) stats.eventTimes.shift();
  document.getElementById('rate').textContent = String(stats.eventTimes.length);
  const recent = stats.latenciesMs.slice(-500);
  document.getElementById('lat50').textContent = format(percentile(recent, 50), 1);
  document.getElementById('lat95').textContent = format(percentile(recent, 95), 1);
}
setInterval(showRates, 500);

// --- orientation cube: three.js when WebGL is available, else a 2D wireframe ---
const cubeCanvas = document.getElementById('cube');
let drawCube = () => {};

async function setupCube() {
  try {
    const THREE = await import('three');
    const renderer = new THREE.WebGLRenderer({ canvas: cubeCanvas, antialias: true });
    renderer.setSize(cubeCanvas.clientWidth, cubeCanvas.clientHeight, false);
    renderer.setClearColor(0x181d24);
    const scene = new THREE.Scene();
    const camera = new THREE.PerspectiveCamera(40, cubeCanvas.clientWidth / cubeCanvas.clientHeight, 0.1, 100);
    camera.position.set(0, 1.6, 4.2);
    camera.lookAt(0, 0, 0);
    const faces = [0xef5350, 0xef5350, 0x66bb6a, 0x66bb6a, 0x42a5f5, 0x42a5f5]
      .map((color) => new THREE.MeshLambertMaterial({ color }));
    const cube = new THREE.Mesh(new THREE.BoxGeometry(1.6, 0.5, 1.1), faces);
    scene.add(cube, new THREE.AmbientLight(0xffffff, 0.6));
    const light = new THREE.DirectionalLight(0xffffff, 1.2);
    light.position.set(2, 4, 3);
    scene.add(light);
    drawCube = (pitchDeg, rollDeg) => {
      cube.rotation.set(rollDeg * Math.PI / 180, 0, pitchDeg * Math.PI / 180, 'XYZ');
      renderer.render(scene, camera);
    };
    stats.cube = 'webgl';
  } catch (error) {
    stats.cube = '2d';
    document.getElementById('cube-mode').textContent = `3D unavailable (${error.message}); 2D wireframe`;
    drawCube = wireframeCube;
  }
}

function wireframeCube(pitchDeg, rollDeg) {
  const ctx = cubeCanvas.getContext('2d');
  const w = cubeCanvas.width = cubeCanvas.clientWidth;
  const h = cubeCanvas.height = cubeCanvas.clientHeight;
  ctx.fillStyle = '#181d24';
  ctx.fillRect(0, 0, w, h);
  const p = pitchDeg * Math.PI / 180, r = rollDeg * Math.PI / 180;
  const corners = [];
  for (const x of [-0.8, 0.8]) for (const y of [-0.25, 0.25]) for (const z of [-0.55, 0.55]) {
    const y1 = y * Math.cos(r) - z * Math.sin(r), z1 = y * Math.sin(r) + z * Math.cos(r);
    const x2 = x * Math.cos(p) - y1 * Math.sin(p), y2 = x * Math.sin(p) + y1 * Math.cos(p);
    corners.push([w / 2 + x2 * w * 0.3 + z1 * w * 0.12, h / 2 - y2 * w * 0.3 + z1 * w * 0.08]);
  }
  ctx.strokeStyle = '#4fc3f7';
  ctx.lineWidth = 2;
  for (let a = 0; a < 8; a++) for (let b = a + 1; b < 8; b++) {
    const differing = (a ^ b);
    if (differing === 1 || differing === 2 || differing === 4) {
      ctx.beginPath(); ctx.moveTo(...corners[a]); ctx.lineTo(...corners[b]); ctx.stroke();
    }
  }
}

function frame() {
  if (pendingNewestTs !== null) {
    charts.accel.setData([data.t, data.ax, data.ay, data.az]);
    charts.gyro.setData([data.t, data.gx, data.gy, data.gz]);
    charts.temp.setData([data.t, data.temp]);
    if (pendingKpis) {
      showKpis(pendingKpis);
      drawCube(pendingKpis.pitch_deg, pendingKpis.roll_deg);
    }
    // uPlot draws in a microtask queued by setData; ours runs after it, once drawn.
    const sampleTs = pendingNewestTs;
    queueMicrotask(() => {
      const drawnServerMs = nowWallMs() - stats.offsetMs;
      stats.latenciesMs.push(drawnServerMs - sampleTs);
      if (stats.latenciesMs.length > kLatencyKeep) stats.latenciesMs.splice(0, 1000);
      stats.frames++;
    });
    pendingNewestTs = null;
  }
  requestAnimationFrame(frame);
}

function connect() {
  const source = new EventSource('/api/stream');
  source.onopen = () => { document.getElementById('conn').textContent = 'live'; };
  source.onmessage = onEvent;
  source.onerror = () => { document.getElementById('conn').textContent = 'reconnecting…'; };
  stats.source = source;
}

// A parquet: source has no live acquisition; say so instead of showing dashes forever.
async function explainIfNotAcquiring() {
  const response = await fetch('/api/stats');
  const { acquiring, source } = await response.json();
  if (!acquiring && stats.events === 0) {
    document.getElementById('conn').textContent = `no live samples from ${source}; see Student`;
  }
}

await setupCube();
connect();
setTimeout(explainIfNotAcquiring, 2000);
requestAnimationFrame(frame);
