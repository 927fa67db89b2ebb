// The bench report's charts, drawn from the report JSON embedded in the page. uPlot (npm,
// inlined) draws the latency CDF and the scatter plots; bars are plain HTML, one row per
// model or node, so their labels can never overlap.
(function () {
  'use strict';
  const report = JSON.parse(document.getElementById('report-data').textContent);
  const models = report.models || [];
  const palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
                   '#17becf', '#bcbd22', '#7f7f7f'];
  const color = (i) => palette[i % palette.length];
  const first = (m) => m.batches[0];
  const fmt = (v, digits = 3) => (v === null || v === undefined) ? 'n/a' : Number(v).toPrecision(digits);
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const width = (node) => Math.max(480, Math.min(1100, node.clientWidth - 20));

  // Empirical CDF on a log latency axis: one step line per model over the union of samples.
  function latencyCdf(host) {
    const samples = models.map((m) => [...(first(m).raw_latencies_ms || [])].sort((a, b) => a - b));
    const xs = [...new Set(samples.flat())].filter((v) => v > 0).sort((a, b) => a - b);
    if (xs.length === 0) { host.append(el('p', { class: 'note' }, 'no latency samples')); return; }
    const series = samples.map((s) => {
      let k = 0;
      return xs.map((x) => { while (k < s.length && s[k] <= x) k++; return k / s.length; });
    });
    const opts = {
      width: width(host), height: 380,
      scales: { x: { time: false, distr: 3 }, y: { range: [0, 1] } },
      axes: [{ label: 'latency (ms, log scale)' }, { label: 'fraction of runs' }],
      legend: { live: true },
      series: [{ label: 'ms', value: (u, v) => fmt(v, 4) },
        ...models.map((m, i) => ({ label: m.label, stroke: color(i), width: 2,
          paths: uPlot.paths.stepped({ align: 1 }), points: { show: false } }))],
    };
    new uPlot(opts, [xs, ...series], host);
  }

  // Horizontal bars, sorted: label | bar (with optional CI whisker) | value.
  function bars(host, rows, unit) {
    const grid = el('div', { class: 'bars' });
    const high = Math.max(...rows.map((r) => Math.max(r.value, r.ciHigh ?? 0))) || 1;
    rows.forEach((r, i) => {
      grid.append(el('div', { class: 'bar-label', title: r.label }, r.label));
      const track = el('div', { class: 'bar-track', title: r.title || `${r.label}: ${fmt(r.value)} ${unit}` });
      const fill = el('div', { class: 'bar-fill' });
      fill.style.width = `${(100 * r.value) / high}%`;
      fill.style.background = r.color || color(i);
      track.append(fill);
      if (r.ciLow !== undefined && r.ciHigh !== undefined) {
        const ci = el('div', { class: 'bar-ci' });
        ci.style.left = `${(100 * r.ciLow) / high}%`;
        ci.style.width = `${Math.max(0.3, (100 * (r.ciHigh - r.ciLow)) / high)}%`;
        track.append(ci);
      }
      grid.append(track, el('div', { class: 'bar-value' }, `${fmt(r.value, 4)} ${unit}`));
    });
    host.append(grid);
  }

  function latencyBars(host) {
    const rows = models.map((m, i) => {
      const l = first(m).latency_ms;
      return { label: m.label, value: l.p50, ciLow: l.ci95_low, ciHigh: l.ci95_high, color: color(i),
        title: `${m.label}: p50 ${fmt(l.p50, 4)} ms, mean ${fmt(l.mean, 4)} ms (95% CI ${fmt(l.ci95_low, 4)}..${fmt(l.ci95_high, 4)})` };
    }).sort((a, b) => a.value - b.value);
    bars(host, rows, 'ms');
  }

  // Not dominated: no other model is at least as good on both and better on one.
  function frontier(points) {
    return points.map((p) => !points.some((q) => q !== p && q.x <= p.x && q.y <= p.y && (q.x < p.x || q.y < p.y)));
  }

  // Greedy label placement: each label goes to the first of 8 spots around its point (then
  // farther ones) that overlaps no placed label and no point; labels with no free spot
  // are listed under the chart instead of drawn over others.
  function placeLabels(u, layer, points, note) {
    layer.replaceChildren();
    const left = u.over.offsetLeft, top = u.over.offsetTop;
    const boxes = [], omitted = [];
    const centers = points.map((p) => ({ x: left + u.valToPos(p.x, 'x'), y: top + u.valToPos(p.y, 'y') }));
    const hitsPoint = (b) => centers.some((c) => c.x > b.l - 4 && c.x < b.r + 4 && c.y > b.t - 4 && c.y < b.b + 4);
    const hitsLabel = (b) => boxes.some((o) => b.l < o.r && b.r > o.l && b.t < o.b && b.b > o.t);
    const inside = (b) => b.l >= left && b.r <= left + u.over.clientWidth && b.t >= top && b.b <= top + u.over.clientHeight;
    points.forEach((p, i) => {
      const label = el('span', { class: 'point-label' }, p.label);
      layer.append(label);
      const w = label.offsetWidth, h = label.offsetHeight, c = centers[i];
      let placed = null;
      for (const d of [8, 20, 34]) {
        for (const [dx, dy] of [[1, -1], [1, 1], [-1, -1], [-1, 1], [1, 0], [-1, 0], [0, -1], [0, 1]]) {
          const l = dx > 0 ? c.x + d : dx < 0 ? c.x - d - w : c.x - w / 2;
          const t = dy > 0 ? c.y + d / 2 : dy < 0 ? c.y - d / 2 - h : c.y - h / 2;
          const b = { l, t, r: l + w, b: t + h };
          if (inside(b) && !hitsLabel(b) && !hitsPoint(b)) { placed = b; break; }
        }
        if (placed) break;
      }
      if (!placed) { label.remove(); omitted.push(p.label); return; }
      boxes.push(placed);
      label.style.left = `${placed.l}px`;
      label.style.top = `${placed.t}px`;
    });
    note.textContent = omitted.length ? `Labels left out where they would overlap (hover a point or see the table): ${omitted.join(', ')}` : '';
  }

  // A scatter of models (x, y) with the frontier joined; hover shows the model.
  function scatter(host, points, xLabel, yLabel, lowerYIsBetter) {
    const order = points.map((p, i) => i).sort((a, b) => points[a].x - points[b].x);
    const sorted = order.map((i) => points[i]);
    const signed = sorted.map((p) => ({ x: p.x, y: lowerYIsBetter ? p.y : -p.y }));
    const onFrontier = frontier(signed);
    const xs = sorted.map((p) => p.x);
    const layer = el('div');
    const note = el('p', { class: 'note' });
    const opts = {
      width: width(host), height: 420,
      scales: { x: { time: false }, y: { auto: true } },
      axes: [{ label: xLabel }, { label: yLabel }],
      legend: { live: true },
      series: [{ label: xLabel, value: (u, v, s, idx) => (idx === null ? '' : `${fmt(v, 4)} (${sorted[idx].label})`) },
        { label: yLabel, stroke: '#1f77b4', fill: '#1f77b4', width: 0, paths: () => null,
          points: { show: true, size: 9, fill: '#1f77b4' } },
        { label: 'frontier', stroke: '#d62728', width: 1.5, spanGaps: true, points: { show: true, size: 11, fill: '#fff', stroke: '#d62728' } }],
      hooks: { draw: [(u) => placeLabels(u, layer, sorted, note)] },
    };
    const plot = new uPlot(opts, [xs, sorted.map((p) => p.y), sorted.map((p, i) => (onFrontier[i] ? p.y : null))], host);
    plot.root.style.position = 'relative';
    host.style.position = 'relative';
    layer.className = 'labels';
    host.append(layer, note);
  }

  function pareto(host) {
    scatter(host, models.map((m) => ({ label: m.label, x: first(m).latency_ms.p50, y: m.file_bytes / 1e6 })),
      'p50 latency (ms)', 'file size (MB)', true);
  }

  function accuracy(host) {
    const measured = models.filter((m) => m.accuracy && m.accuracy.top1 !== undefined);
    if (measured.length === 0) { host.closest('section').remove(); return; }
    scatter(host, measured.map((m) => ({ label: m.label, x: first(m).latency_ms.p50, y: 100 * m.accuracy.top1 })),
      'p50 latency (ms)', 'top-1 accuracy (%)', false);
  }

  function profiles(host) {
    const profiled = models.filter((m) => m.profile && m.profile.rows);
    if (profiled.length === 0) { host.closest('section').remove(); return; }
    for (const m of profiled) {
      host.append(el('h3', {}, `${m.label}: the 20 slowest steps`));
      const top = [...m.profile.rows].sort((a, b) => b.mean_ms - a.mean_ms).slice(0, 20);
      bars(host, top.map((r) => ({ label: `${r.label} (${r.kind})`, value: r.mean_ms, color: '#1f77b4',
        title: `${r.label}: ${r.kind}, ${r.implementation}, ${fmt(r.mean_ms, 4)} ms, ${fmt(100 * r.share, 3)}%` })), 'ms');
      host.append(el('h3', {}, `${m.label}: time by op type`));
      const groups = [...(m.profile.by_op_type || [])].sort((a, b) => b.mean_ms - a.mean_ms);
      bars(host, groups.map((g) => ({ label: g.op, value: g.mean_ms, color: '#2ca02c' })), 'ms');
    }
  }

  // Click a header to sort by it (numbers numerically, the rest as text).
  function sortable(table) {
    table.classList.add('sortable');
    const headers = [...table.querySelectorAll('tr:first-child th')];
    headers.forEach((th, column) => th.addEventListener('click', () => {
      const order = th.dataset.order === 'asc' ? 'desc' : 'asc';
      headers.forEach((h) => delete h.dataset.order);
      th.dataset.order = order;
      const rows = [...table.querySelectorAll('tr')].slice(1);
      const key = (row) => { const text = row.children[column]?.textContent ?? ''; const n = parseFloat(text); return Number.isNaN(n) ? text : n; };
      rows.sort((a, b) => { const ka = key(a), kb = key(b);
        const c = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka).localeCompare(String(kb));
        return order === 'asc' ? c : -c; });
      rows.forEach((row) => row.parentNode.append(row));
    }));
  }

  const draw = { 'latency-cdf': latencyCdf, 'latency-bars': latencyBars, pareto, accuracy, profile: profiles };
  for (const [id, render] of Object.entries(draw)) {
    const host = document.getElementById(id);
    if (host) render(host);
  }
  document.querySelectorAll('table').forEach(sortable);
})();
