// The review page: a stage graph fed live by server-sent events, and one view per stage kind.
// Plain browser JavaScript, no build step; uPlot (served from node_modules) draws the charts.
'use strict';

const state = { pipelines: [], pipeline: null, stage: null, detailKey: '', charts: [], lastRefresh: 0, timer: 0 };
const $ = (sel) => document.querySelector(sel);
const pad6 = (n) => String(n).padStart(6, '0');
const fileUrl = (rel) => `/files/${rel.split('/').map(encodeURIComponent).join('/')}`;
const thumbUrl = (rel, w) => `/thumb/${rel.split('/').map(encodeURIComponent).join('/')}?w=${w}`;
const api = (path, params) => `/api/${path}?${new URLSearchParams(params)}`;

/** h('div', {class: 'x', onclick: f}, child, 'text', ...) */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of kids.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

function fmtMs(ms) {
  if (ms === null || ms === undefined) return '';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function fmtVal(v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4);
  if (v === null || v === undefined) return '–';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A key/value table; nested objects become nested tables (score.json, summaries). */
function kvTable(obj) {
  const t = h('table', { class: 'kv' });
  for (const [k, v] of Object.entries(obj || {})) {
    const cell = Array.isArray(v) ? (v.length <= 12 && v.every((x) => typeof x !== 'object' || x === null) ? v.map(fmtVal).join(', ') : `${v.length} items`) : v && typeof v === 'object' ? kvTable(v) : fmtVal(v);
    t.append(h('tr', {}, h('th', {}, k), h('td', {}, cell)));
  }
  return t;
}

function progressText(p) {
  if (!p) return '';
  const unit = p.unit ? `${p.unit} ` : '';
  const pct = p.total ? ` (${Math.floor((100 * p.done) / p.total)}%)` : '';
  return `${unit}${p.done}${p.total ? `/${p.total}` : ''}${pct}${p.msg ? ` ${p.msg}` : ''}`;
}

// ---------------------------------------------------------------- the graph

function currentPipeline() {
  return state.pipelines.find((p) => p.name === state.pipeline) || state.pipelines[0] || null;
}

function renderPipelines() {
  const sel = $('#pipeline');
  const names = state.pipelines.map((p) => p.name);
  if ([...sel.options].map((o) => o.value).join() !== names.join()) {
    sel.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
  }
  const p = currentPipeline();
  if (!p) return;
  state.pipeline = p.name;
  sel.value = p.name;
  $('#file').textContent = p.file;
  renderGraph(p);
}

function renderGraph(p) {
  const g = $('#graph');
  if (p.error) {
    g.replaceChildren(h('p', { class: 'err' }, `${p.file}: cannot be loaded\n${p.error}`));
    return;
  }
  // layers: a stage sits one column right of its deepest need
  const depth = new Map();
  for (const s of p.stages) depth.set(s.name, Math.max(-1, ...s.needs.map((n) => depth.get(n) ?? 0)) + 1);
  const rows = new Map();
  const pos = new Map();
  const W = 160, H = 66, GX = 30, GY = 12;
  for (const s of p.stages) {
    const d = depth.get(s.name);
    const r = rows.get(d) ?? 0;
    rows.set(d, r + 1);
    pos.set(s.name, { x: 10 + d * (W + GX), y: 10 + r * (H + GY) });
  }
  const width = 20 + (Math.max(...depth.values()) + 1) * (W + GX);
  const height = 20 + Math.max(...rows.values()) * (H + GY);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', width);
  svg.setAttribute('height', height);
  for (const s of p.stages) {
    for (const n of s.needs) {
      const a = pos.get(n), b = pos.get(s.name);
      if (!a || !b) continue;
      const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
      path.setAttribute('d', `M${x1},${y1} C${x1 + GX / 2},${y1} ${x2 - GX / 2},${y2} ${x2},${y2}`);
      svg.append(path);
    }
  }
  const nodes = p.stages.map((s) => {
    const { x, y } = pos.get(s.name);
    const why = s.display === 'stale' ? s.reasons.join('; ') : s.display === 'failed' ? `failed ${s.failedAt?.slice(0, 19).replace('T', ' ') ?? ''}` : s.display === 'running' ? progressText(s.progress) : [s.engine, fmtMs(s.durationMs)].filter(Boolean).join(' · ');
    const pct = s.progress?.total ? Math.min(100, (100 * s.progress.done) / s.progress.total) : 0;
    return h(
      'div',
      { class: `node ${s.display}${state.stage === s.name ? ' selected' : ''}`, style: `left:${x}px;top:${y}px`, 'data-stage': s.name, 'data-state': s.display, title: `${s.name} (${s.kind}) ${s.display}\nkey ${s.key}${s.reasons.length ? `\n${s.reasons.join('\n')}` : ''}`, onclick: () => select(s.name) },
      h('div', { class: 'name' }, s.name),
      h('div', { class: 'sub' }, h('span', { class: `badge ${s.display}` }, s.display), ` ${s.kind} · ${s.key.slice(0, 8)}`),
      h('div', { class: 'why' }, why),
      s.display === 'running' ? h('div', { class: 'bar' }, h('div', { style: `width:${pct}%` })) : null,
    );
  });
  g.replaceChildren(svg, ...nodes);
  g.style.height = `${Math.min(height + 4, window.innerHeight * 0.46)}px`;
}

// ---------------------------------------------------------------- routing and live updates

function select(name) {
  state.stage = name;
  location.hash = new URLSearchParams({ p: state.pipeline, s: name }).toString();
  renderGraph(currentPipeline());
  loadStage(true);
}

function fromHash() {
  const q = new URLSearchParams(location.hash.slice(1));
  if (q.get('p')) state.pipeline = q.get('p');
  if (q.get('s')) state.stage = q.get('s');
}

function connect() {
  const es = new EventSource('/api/events');
  es.addEventListener('pipelines', (ev) => {
    state.pipelines = JSON.parse(ev.data);
    $('#live').textContent = 'live';
    $('#live').className = 'on';
    renderPipelines();
    const s = currentStage();
    if (!s) return;
    // reload the stage view when it changed state or key, and (at most once a second) while it runs
    const key = `${s.display}:${s.key}:${s.dir}`;
    if (key !== state.detailKey) loadStage(true);
    else if (s.display === 'running') {
      clearTimeout(state.timer);
      state.timer = setTimeout(() => loadStage(false), Math.max(0, 1000 - (Date.now() - state.lastRefresh)));
    }
  });
  es.onerror = () => {
    $('#live').textContent = 'reconnecting…';
    $('#live').className = '';
  };
}

function currentStage() {
  return currentPipeline()?.stages.find((s) => s.name === state.stage) || null;
}

// ---------------------------------------------------------------- the stage view

async function getJson(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.error || r.statusText);
  return body;
}

/** full: rebuild the whole view; otherwise refresh only what moves while a stage runs (charts, previews, log). */
async function loadStage(full) {
  const s = currentStage();
  const box = $('#stage');
  if (!s) return;
  state.lastRefresh = Date.now();
  state.detailKey = `${s.display}:${s.key}:${s.dir}`;
  let d;
  try {
    d = await getJson(api('stage', { pipeline: state.pipeline, stage: s.name }));
  } catch (e) {
    box.replaceChildren(h('p', { class: 'err' }, String(e.message || e)));
    return;
  }
  if (!full && box.dataset.stage === s.name) {
    await refreshLive(d);
    return;
  }
  for (const c of state.charts) c.destroy();
  state.charts = [];
  box.dataset.stage = s.name;
  const v = d.view;
  const facts = [
    ['kind', v.kind],
    ['state', h('span', { class: `badge ${v.display}` }, v.display)],
    ['key', v.key.slice(0, 16)],
    v.engine && ['engine', v.engine],
    v.durationMs !== null && ['duration', fmtMs(v.durationMs)],
    v.display === 'running' && v.startMs && ['running for', fmtMs(Date.now() - v.startMs)],
    v.display === 'running' && v.progress && ['progress', h('span', { id: 'progress' }, progressText(v.progress))],
    v.failedAt && ['failed at', v.failedAt.replace('T', ' ').slice(0, 19)],
  ].filter(Boolean);
  const parts = [
    h('h2', {}, v.name),
    h('div', { class: 'facts' }, facts.map(([k, val]) => h('span', {}, `${k} `, h('b', {}, val)))),
  ];
  if (v.reasons.length) parts.push(h('p', { class: 'hint' }, `${v.display === 'running' ? 'runs because' : 'stale'}: ${v.reasons.join('; ')}${v.lastKey && v.display !== 'running' ? ' (showing its last run)' : ''}`));
  if (!v.dir) parts.push(h('p', { class: 'hint' }, v.display === 'failed' ? 'The last run failed: its log is below.' : 'Nothing made yet: this stage has not run with these settings.'));
  box.replaceChildren(...parts);
  const section = (title, ...kids) => box.append(h('h3', {}, title), ...kids);
  if (d.frames && d.frames.frames.length) section(`frames (${d.frames.frames.length})`, frameScrub(d.frames.dir, d.frames.frames));
  if (d.align) alignView(d, section);
  if (d.train) await trainView(d, section);
  if (d.compare && d.compare.frames.length) {
    section(`${d.compare.a.label} | ${d.compare.b.label}`, compareView(d.compare));
    const fig = h('p', { class: 'hint', id: 'flicker' }, 'measuring flicker…');
    const scored = currentPipeline().stages.some((s) => s.kind === 'score');
    section('flicker and seams', fig, h('p', { class: 'hint' }, scored ? 'Seam figures: open the score stage.' : 'Seam figures come from a score stage; this pipeline has none.'));
    getJson(api('flicker', { pipeline: state.pipeline, stage: v.name })).then(
      (f) => (fig.textContent = f.after === null ? `no swapped region found in ${f.pairs} frame pairs` : `frame-to-frame change inside the swapped region (${(100 * f.region).toFixed(1)}% of the picture, ${f.pairs} frame pairs): ${d.compare.a.label} ${fmtVal(f.before)}, ${d.compare.b.label} ${fmtVal(f.after)} levels; ratio ${fmtVal(f.ratio)} (1 = moves like the ${d.compare.a.label}, above 1 adds flicker)`),
      (e) => (fig.textContent = `flicker: ${e.message}`),
    );
  }
  if (d.videos && d.videos.length) section('video', h('div', { class: 'row' }, d.videos.map((f) => h('figure', {}, h('video', { src: fileUrl(f), controls: true, preload: 'metadata' }), h('figcaption', {}, f.split('/').pop())))));
  if (d.images && d.images.length) section('images', h('div', { class: 'row' }, d.images.map((f) => h('figure', {}, h('a', { href: fileUrl(f), target: '_blank' }, h('img', { class: 'frame', src: thumbUrl(f, 512), alt: f })), h('figcaption', {}, f.split('/').pop())))));
  if (d.score) section('score', kvTable(d.score));
  if (v.summary) section('summary', kvTable(v.summary));
  if (d.params) section('params', kvTable(d.params));
  if (d.files.length) section('artifacts', h('p', { class: 'hint' }, d.files.map((f, i) => [i ? ' · ' : '', h('a', { href: f.endsWith('/') ? null : fileUrl(`${v.dir}/${f}`), target: '_blank' }, f)])));
  if (v.log) {
    const pre = h('pre', { class: 'log', id: 'log' });
    section('log', h('div', {}, h('a', { href: fileUrl(v.log), target: '_blank' }, 'whole log'), ' · last 200 lines:'), pre);
    await loadLog(v);
  }
}

async function loadLog(v) {
  const pre = $('#log');
  if (!pre) return;
  const r = await fetch(api('log', { pipeline: state.pipeline, stage: v.name, tail: 200 }));
  pre.textContent = await r.text();
  pre.scrollTop = pre.scrollHeight;
}

async function refreshLive(d) {
  const v = d.view;
  const p = $('#progress');
  if (p && v.progress) p.textContent = progressText(v.progress);
  if (d.train) await refreshTrain(d);
  if (v.log) await loadLog(v);
}

/** A slider over frame numbers; thumbnails while dragging, the full frame when let go. */
function scrubber(frames, onFrame) {
  const label = h('span', {}, `frame ${frames[0]}`);
  const input = h('input', { type: 'range', min: 0, max: frames.length - 1, value: 0, step: 1, class: 'frame-scrub' });
  input.addEventListener('input', () => {
    label.textContent = `frame ${frames[input.value]}`;
    onFrame(frames[input.value], false);
  });
  input.addEventListener('change', () => onFrame(frames[input.value], true));
  return h('div', { class: 'scrub' }, input, label);
}

function frameScrub(dir, frames) {
  const img = h('img', { class: 'frame', src: fileUrl(`${dir}/${pad6(frames[0])}.png`), alt: 'frame' });
  const show = (f, full) => (img.src = full ? fileUrl(`${dir}/${pad6(f)}.png`) : thumbUrl(`${dir}/${pad6(f)}.png`, 256));
  return h('div', {}, scrubber(frames, show), img);
}

// ---------------------------------------------------------------- align

function alignView(d, section) {
  const a = d.align;
  if (a.contact) section('contact sheet', h('a', { href: fileUrl(a.contact), target: '_blank' }, h('img', { class: 'frame', src: thumbUrl(a.contact, 512), alt: 'contact sheet' })));
  if (a.plate && a.frames.length) {
    const canvas = h('canvas', { class: 'frame', id: 'landmarks' });
    const draw = async (f) => {
      const [img, faces] = await Promise.all([loadImage(fileUrl(`${a.plate}/${pad6(f)}.png`)), fetch(fileUrl(`${a.faces}/${pad6(f)}.json`)).then((r) => (r.ok ? r.json() : null))]);
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const face = faces && faces.face;
      if (!face) return;
      const r = Math.max(1.5, img.naturalWidth / 300);
      const dots = (pts, color) => {
        ctx.fillStyle = color;
        for (const [x, y] of pts || []) {
          ctx.beginPath();
          ctx.arc(x, y, r, 0, 2 * Math.PI);
          ctx.fill();
        }
      };
      dots(face.landmarksRaw, '#ff5a4e');
      dots(face.landmarks, '#4eff7a');
    };
    draw(a.frames[0]);
    section(`landmarks on the plate (${a.withFace}/${a.frames.length} frames with a face; red raw, green stabilised)`, h('div', {}, scrubber(a.frames, (f) => draw(f)), canvas));
  }
  const box = h('div', { class: 'chart', id: 'jitter-chart' });
  section('jitter: landmark motion per frame, inter-ocular units (raw vs stabilised)', box);
  getJson(api('jitter', { pipeline: state.pipeline, stage: d.view.name })).then((j) => {
    if (!j.frame.length) return;
    const mean = (xs) => { const v = xs.filter((x) => x !== null); return v.length ? v.reduce((s, x) => s + x, 0) / v.length : NaN; };
    box.before(h('p', { class: 'hint' }, `mean raw ${fmtVal(mean(j.raw))}, stabilised ${fmtVal(mean(j.stabilised))}`));
    state.charts.push(new uPlot({ width: chartWidth(), height: 220, scales: { x: { time: false } }, series: [{ label: 'frame' }, { label: 'raw', stroke: '#d33' }, { label: 'stabilised', stroke: '#2a2' }] }, [j.frame, j.raw, j.stabilised], box));
  });
}

function loadImage(src) {
  return new Promise((res, rej) => {
    const img = new Image();
    img.onload = () => res(img);
    img.onerror = () => rej(new Error(`cannot load ${src}`));
    img.src = src;
  });
}

function chartWidth() {
  return Math.min(900, window.innerWidth - 60);
}

// ---------------------------------------------------------------- train

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

async function trainView(d, section) {
  const m = await getJson(api('metrics', { pipeline: state.pipeline, stage: d.view.name }));
  section('training', h('div', { class: 'facts', id: 'train-facts' }, trainFacts(d, m)));
  const box = h('div', { class: 'chart', id: 'loss-chart' });
  section('loss per identity (drag to zoom, double-click to reset)', box);
  const ids = Object.keys(m.losses);
  const chart = new uPlot(
    { width: chartWidth(), height: 280, scales: { x: { time: false } }, axes: [{ label: 'step' }, { label: 'loss' }], series: [{ label: 'step' }, ...ids.map((id, i) => ({ label: id, stroke: COLORS[i % COLORS.length], spanGaps: true }))] },
    [m.step, ...ids.map((id) => m.losses[id])],
    box,
  );
  chart.ids = ids;
  state.charts.push(chart);
  state.lossChart = chart;
  const prev = h('div', { id: 'previews' });
  section('previews (per identity: input | reconstruction | swaps)', prev);
  renderPreviews(prev, d.train);
}

function trainFacts(d, m) {
  const last = m.last;
  if (!last) return [h('span', {}, 'no steps yet')];
  const recent = m.imgPerSec.slice(-50);
  const ips = recent.reduce((s, x) => s + x, 0) / recent.length;
  const ms = m.msPerStep.slice(-50).reduce((s, x) => s + x, 0) / Math.max(1, m.msPerStep.slice(-50).length);
  const p = d.view.progress;
  const eta = d.view.display === 'running' && p && p.total ? fmtMs((p.total - p.done) * ms) : d.view.display === 'running' ? '?' : 'done';
  const facts = [['step', last.step], ['resolution', `${last.resolution} px`], ['alpha', fmtVal(last.alpha)], ['img/s', fmtVal(ips)], ['ms/step', fmtVal(ms)], ['ETA', eta]];
  return facts.map(([k, v]) => h('span', {}, `${k} `, h('b', {}, String(v))));
}

function renderPreviews(box, t) {
  if (!t.previews.length) {
    box.replaceChildren(h('p', { class: 'hint' }, 'no preview written yet'));
    return;
  }
  const label = h('span', {});
  const imgs = h('div', { class: 'row previews' });
  const input = h('input', { type: 'range', min: 0, max: t.previews.length - 1, value: t.previews.length - 1, step: 1, class: 'preview-step' });
  const show = () => {
    const p = t.previews[input.value];
    label.textContent = `step ${p.step} (${Number(input.value) + 1} of ${t.previews.length})`;
    imgs.replaceChildren(...p.files.map((f) => h('figure', {}, h('img', { src: fileUrl(f.path), alt: f.identity }), h('figcaption', {}, f.identity))));
  };
  input.addEventListener('input', show);
  show();
  box.replaceChildren(h('div', { class: 'scrub' }, input, label), imgs);
}

async function refreshTrain(d) {
  const m = await getJson(api('metrics', { pipeline: state.pipeline, stage: d.view.name }));
  const facts = $('#train-facts');
  if (facts) facts.replaceChildren(...trainFacts(d, m));
  const c = state.lossChart;
  if (c && Object.keys(m.losses).join() === c.ids.join()) c.setData([m.step, ...c.ids.map((id) => m.losses[id])]);
  const prev = $('#previews');
  const slider = prev && prev.querySelector('input');
  // keep the slider where the user left it, unless it was on the newest step
  if (prev && (!slider || Number(slider.value) === Number(slider.max))) renderPreviews(prev, d.train);
}

// ---------------------------------------------------------------- swap / blend

function compareView(c) {
  const src = (dir, f, full) => (full ? fileUrl(`${dir}/${pad6(f)}.png`) : thumbUrl(`${dir}/${pad6(f)}.png`, 512));
  const first = c.frames[0];
  const a = h('img', { src: src(c.a.dir, first, true), alt: c.a.label });
  const b = h('img', { src: src(c.b.dir, first, true), alt: c.b.label, class: 'top' });
  const line = h('div', { class: 'line' });
  const wipe = h('div', { class: 'wipe', id: 'wipe' }, a, b, line);
  const sideA = h('img', { class: 'frame', src: src(c.a.dir, first, true), alt: c.a.label });
  const sideB = h('img', { class: 'frame', src: src(c.b.dir, first, true), alt: c.b.label });
  const slider = h('input', { type: 'range', min: 0, max: 100, value: 50, step: 1, id: 'wipe-slider' });
  const setWipe = () => {
    // left of the line: a (plate); right of it: b (swap)
    b.style.clipPath = `inset(0 0 0 ${slider.value}%)`;
    line.style.left = `${slider.value}%`;
  };
  slider.addEventListener('input', setWipe);
  setWipe();
  const show = (f, full) => {
    a.src = src(c.a.dir, f, full);
    b.src = src(c.b.dir, f, full);
    sideA.src = src(c.a.dir, f, full);
    sideB.src = src(c.b.dir, f, full);
  };
  return h(
    'div',
    {},
    scrubber(c.frames, show),
    h('div', { class: 'scrub' }, h('span', {}, `wipe: ${c.a.label}`), slider, h('span', {}, c.b.label)),
    h('div', { class: 'row' }, wipe, h('div', { class: 'row pair' }, h('figure', {}, sideA, h('figcaption', {}, c.a.label)), h('figure', {}, sideB, h('figcaption', {}, c.b.label)))),
  );
}

// ---------------------------------------------------------------- start

$('#pipeline').addEventListener('change', (e) => {
  state.pipeline = e.target.value;
  state.stage = null;
  $('#stage').replaceChildren(h('p', { class: 'hint' }, 'Click a stage to see what it made.'));
  renderPipelines();
});
fromHash();
connect();
