// The review page: a stage graph fed live by server-sent events, and one view per stage kind.
// Plain browser JavaScript, no build step; uPlot (served from node_modules, loaded by the views with charts) draws the charts.
'use strict';

const state = { pipelines: [], pipeline: null, stage: null, detailKey: '', charts: [], players: [], viewports: [], layout: null, lastRefresh: 0, timer: 0 };
const $ = (sel) => document.querySelector(sel);
const pad6 = (n) => String(n).padStart(6, '0');
const fileUrl = (rel) => `/files/${rel.split('/').map(encodeURIComponent).join('/')}`;
const thumbUrl = (rel, w) => `/thumb/${rel.split('/').map(encodeURIComponent).join('/')}?w=${w}`;
const api = (path, params) => `/api/${path}?${new URLSearchParams(params)}`;

/** Loads a script of the page once (uPlot and dagre: only the views that draw with them pay for them). */
const scripts = new Map();
function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((res, rej) => document.head.append(h('script', { src, onload: res, onerror: () => rej(new Error(`cannot load ${src}`)) }))));
  }
  return scripts.get(src);
}

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

/** Summary fields named for what they are, per stage kind (the stage's own names stay in the tooltip). */
const LABELS = {
  'align.fps': 'processing speed (frames/s)',
  'train.imgPerSec': 'img/s (mean of all steps)',
  'score.seconds': 'scoring time (s)',
};

/** A key/value table; nested objects become nested tables (summaries, params). */
function kvTable(obj, kind) {
  const t = h('table', { class: 'kv' });
  for (const [k, v] of Object.entries(obj || {})) {
    const cell = Array.isArray(v) ? (v.length <= 12 && v.every((x) => typeof x !== 'object' || x === null) ? v.map(fmtVal).join(', ') : `${v.length} items`) : v && typeof v === 'object' ? kvTable(v) : fmtVal(v);
    const label = kind && LABELS[`${kind}.${k}`];
    t.append(h('tr', {}, h('th', { title: label ? k : null }, label || k), h('td', {}, cell)));
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
  renderVerdict(p);
  renderGraph(p);
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
    // (not while labels are being drawn: a save, or a run finishing, must not drop unsaved polygons)
    if (key !== state.detailKey && !state.labelsDirty) loadStage(true);
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
  state.players.forEach((p) => p.stop());
  state.players = [];
  state.viewports = [];
  state.labelsDirty = false; // a view built afresh holds no unsaved labels
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
  // a failed stage is failed, not also "stale: never run"
  if (v.reasons.length && v.display !== 'failed') parts.push(h('p', { class: 'hint' }, `${v.display === 'running' ? 'runs because' : 'stale'}: ${v.reasons.join('; ')}${v.lastKey && v.display !== 'running' ? ' (showing its last run)' : ''}`));
  if (v.display === 'failed') parts.push(h('p', { class: 'err' }, `The last run failed: ${d.score ? 'the figures below come from its log; ' : ''}its log is below.`));
  else if (!v.dir) parts.push(h('p', { class: 'hint' }, 'Nothing made yet: this stage has not run with these settings.'));
  box.replaceChildren(...parts);
  const section = (title, ...kids) => box.append(h('h3', {}, title), ...kids.filter((k) => k !== null && k !== undefined && k !== false));
  if (d.score) scoreSection(d.score, section);
  if (d.frames && d.frames.frames.length) section(`frames (${d.frames.frames.length})`, framesView(d.frames.dir, d.frames.frames, d.fps));
  if (d.align) alignView(d, section);
  if (v.kind === 'occlusion') await labelSection(v, section);
  if (d.dataset) datasetSection(d.dataset, section);
  if (d.train) await trainView(d, section);
  if (d.compare && d.compare.frames.length) {
    section(`${d.compare.a.label} | ${d.compare.b.label}`, wipeView({ ...d.compare, fps: d.fps }, 'wipe'));
    const fig = h('p', { class: 'hint', id: 'flicker' }, 'measuring flicker…');
    const scored = currentPipeline().stages.some((s) => s.kind === 'score');
    section('flicker and seams', fig, h('p', { class: 'hint' }, scored ? 'Seam figures: open the score stage.' : 'Seam figures come from a score stage; this pipeline has none.'));
    getJson(api('flicker', { pipeline: state.pipeline, stage: v.name })).then((f) => (fig.textContent = flickerText(f, d.compare)), (e) => (fig.textContent = `flicker: ${e.message}`));
  }
  if (v.dir) {
    const slot = h('div', { class: 'ab-slot' }); // filled once the stage's cached runs are listed
    box.append(slot);
    // when the browser is idle: the first frame comes before the list of the stage's other runs
    const later = window.requestIdleCallback || ((f) => setTimeout(f, 100));
    later(() => abSection(v, slot, d.fps));
  }
  if (d.videos && d.videos.length) section('video', h('div', { class: 'row' }, d.videos.map((f) => h('figure', {}, h('video', { src: fileUrl(f), controls: true, preload: 'metadata' }), h('figcaption', {}, f.split('/').pop())))));
  const images = (d.images || []).filter((f) => !(d.score && d.score.plot === f));
  if (images.length) section('images', h('div', { class: 'row' }, images.map((f) => h('figure', {}, h('a', { href: fileUrl(f), target: '_blank' }, h('img', { class: 'frame', src: thumbUrl(f, 512), alt: f })), h('figcaption', {}, f.split('/').pop())))));
  if (v.summary && !d.score) section('summary', kvTable(v.summary, v.kind));
  if (d.params) section(v.dir ? 'params' : 'params (as planned)', kvTable(d.params));
  if (d.files.length) section('artifacts', artifactLinks(v, d.files));
  if (v.log) {
    const pre = h('pre', { class: 'log', id: 'log' });
    section('log', h('div', {}, h('a', { href: fileUrl(v.log), target: '_blank' }, 'whole log'), ' · last 200 lines, progress lines folded:'), pre);
    await loadLog(v);
  }
}

/** The flicker figure in words; a ratio far below 1 is a face that does not move with the plate, not a good swap. */
function flickerText(f, c) {
  if (f.after === null) return `no swapped region found in ${f.pairs} frame pairs`;
  const what = f.ratio < 0.5 ? ` — far below 1: the ${c.b.label} moves much less than the ${c.a.label} (a frozen or static face?)` : f.ratio > 1.5 ? ` — above 1: the ${c.b.label} adds flicker` : '';
  return `frame-to-frame change inside the swapped region (${(100 * f.region).toFixed(1)}% of the picture, ${f.pairs} frame pairs): ${c.a.label} ${fmtVal(f.before)}, ${c.b.label} ${fmtVal(f.after)} levels; ratio ${fmtVal(f.ratio)} (1 = moves like the ${c.a.label})${what}`;
}

/** Artifact names as links: files open, folders unfold into their own links. */
function artifactLinks(v, files, sub = '') {
  return h(
    'p',
    { class: 'hint artifacts' },
    files.map((f, i) => {
      const rel = `${sub}${f}`;
      if (!f.endsWith('/')) return [i ? ' · ' : '', h('a', { href: fileUrl(`${v.dir}/${rel}`), target: '_blank' }, f)];
      const open = h('a', { href: '#', class: 'folder', 'data-sub': rel }, f);
      open.addEventListener('click', async (e) => {
        e.preventDefault();
        if (open.nextElementSibling?.classList.contains('listing')) return open.nextElementSibling.remove();
        const l = await getJson(api('list', { pipeline: state.pipeline, stage: v.name, sub: rel }));
        const more = l.total > l.names.length ? ` … ${l.total - l.names.length} more` : '';
        open.after(h('span', { class: 'listing' }, ' [ ', artifactLinks(v, l.names, rel), more, ' ] '));
      });
      return [i ? ' · ' : '', open];
    }),
  );
}

/** Log text with each run of `::progress` lines folded into one line (the last one, and how many). */
function foldLog(text) {
  const out = [];
  let run = [];
  const flush = () => {
    if (!run.length) return;
    let last = null;
    try {
      last = JSON.parse(run[run.length - 1].replace(/^::progress /, ''));
    } catch {}
    out.push(h('span', { class: 'folded', title: run.slice(-5).join('\n') }, `⋯ ${run.length} progress line${run.length > 1 ? 's' : ''} folded; last: ${last ? progressText(last) : run[run.length - 1]}\n`));
    run = [];
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('::progress ')) run.push(line);
    else {
      flush();
      out.push(`${line}\n`);
    }
  }
  flush();
  return out;
}

async function loadLog(v) {
  const pre = $('#log');
  if (!pre) return;
  const r = await fetch(api('log', { pipeline: state.pipeline, stage: v.name, tail: 200 }));
  pre.replaceChildren(...foldLog((await r.text()).replace(/\n$/, '')));
  pre.scrollTop = pre.scrollHeight;
}

// ---------------------------------------------------------------- score, dataset, A/B

/** One table: each figure, its value coloured by its threshold, the threshold, what it means. */
function scoreSection(sc, section) {
  const shown = sc.rows.filter((r) => r.value !== null || r.ok !== null);
  const missing = sc.rows.filter((r) => r.value === null && r.ok === null).map((r) => r.name);
  const t = h('table', { class: 'kv score', id: 'score-table' }, h('tr', {}, h('th', {}, 'figure'), h('th', {}, 'value'), h('th', {}, 'threshold'), h('th', {}, 'better'), h('th', {}, 'what it measures')));
  for (const r of shown) {
    t.append(h('tr', { class: r.ok === null ? 'free' : r.ok ? 'ok' : 'bad', 'data-figure': r.name }, h('th', {}, r.name), h('td', { class: 'num' }, fmtVal(r.value)), h('td', {}, bounds(r) || '–'), h('td', {}, r.better || ''), h('td', {}, [r.group && `${r.group}: `, r.what || ''])));
  }
  section(sc.from === 'failed log' ? 'score (from the failed run: the gate stopped it)' : 'score', t, sc.breaches.length ? h('p', { class: 'err' }, sc.breaches.join('\n')) : null, missing.length ? h('p', { class: 'hint' }, `not measured in this run: ${missing.join(', ')}`) : null);
  if (sc.plot) section('per frame', h('a', { href: fileUrl(sc.plot), target: '_blank' }, h('img', { class: 'frame', src: thumbUrl(sc.plot, 512), alt: 'score per frame' })));
}

/** The dataset's faces: train and held-out crops, and the frames of its clips it rejected (marked, with why). */
function datasetSection(ds, section) {
  const MAX = 600;
  const tiles = [
    ...ds.items.map((it) => ({ src: it.crop, cls: it.split, title: `${it.clip} frame ${it.frame}: ${it.split}` })),
    ...ds.rejected.map((r) => ({ src: r.crop, cls: 'rejected', title: `${r.clip} frame ${r.frame}: rejected (${r.why})`, why: r.why })),
  ];
  const count = (c) => tiles.filter((t) => t.cls === c).length;
  const grid = h('div', { class: 'face-grid', id: 'face-grid' }, tiles.slice(0, MAX).map((t) => h('figure', { class: `face ${t.cls}`, title: t.title }, t.src ? h('img', { src: thumbUrl(t.src, 64), alt: t.title, loading: 'lazy' }) : h('span', {}, t.why), t.cls === 'rejected' ? h('b', {}, '✗') : null)));
  section(`faces: ${count('train')} train, ${count('heldout')} held out, ${count('rejected')} rejected`, h('p', { class: 'hint' }, 'green: train · blue: held out · red ✗: rejected (hover for why)'), grid, tiles.length > MAX ? h('p', { class: 'hint' }, `first ${MAX} of ${tiles.length}`) : null);
}

/** A/B: any two cached runs of this stage (other settings), as a wipe over their common frames. */
async function abSection(v, slot, fps) {
  let hist;
  try {
    hist = await getJson(api('history', { pipeline: state.pipeline, stage: v.name }));
  } catch {
    return;
  }
  if (hist.entries.length < 2 || !slot.isConnected) return;
  const opt = (e) => h('option', { value: e.key }, `${e.key.slice(0, 8)} · ${e.label}`);
  const selA = h('select', { id: 'ab-a' }, hist.entries.map(opt));
  const selB = h('select', { id: 'ab-b' }, hist.entries.map(opt));
  selB.value = hist.entries[1].key;
  const body = h('div', { id: 'ab' });
  const draw = () => {
    const [a, b] = [selA, selB].map((s) => hist.entries.find((e) => e.key === s.value));
    const common = a.frames.filter((f) => b.frames.includes(f));
    state.players = state.players.filter((p) => p.el.isConnected);
    body.replaceChildren(common.length ? wipeView({ a: { label: `A ${a.key.slice(0, 8)}`, dir: a.dir }, b: { label: `B ${b.key.slice(0, 8)}`, dir: b.dir }, frames: common, fps }, 'ab-wipe') : h('p', { class: 'hint' }, 'these two runs share no frame numbers'));
  };
  selA.addEventListener('change', draw);
  selB.addEventListener('change', draw);
  slot.replaceChildren(h('h3', {}, `A/B: ${hist.entries.length} cached runs of this stage (${hist.folder}/)`), h('div', { class: 'scrub' }, 'A ', selA, ' B ', selB), body);
  draw();
}

async function refreshLive(d) {
  const v = d.view;
  const p = $('#progress');
  if (p && v.progress) p.textContent = progressText(v.progress);
  if (d.train) await refreshTrain(d);
  if (v.log) await loadLog(v);
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
    section(`landmarks on the plate (${a.withFace}/${a.frames.length} frames with a face; red raw, green stabilised)`, h('div', {}, player(a.frames, d.fps, (f) => draw(f).catch(() => undefined)).el, canvas));
  }
  const box = h('div', { class: 'chart', id: 'jitter-chart' });
  section('jitter: landmark motion per frame, inter-ocular units (raw vs stabilised)', box);
  Promise.all([getJson(api('jitter', { pipeline: state.pipeline, stage: d.view.name })), loadScript('/static/uplot.js')]).then(([j]) => {
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

/** The chart's columns: loss per identity, then held-out loss (dashed) when train wrote it. */
function lossSeries(m) {
  const ids = Object.keys(m.losses);
  const held = Object.keys(m.heldout || {});
  const series = [
    { label: 'step' },
    ...ids.map((id, i) => ({ label: id, stroke: COLORS[i % COLORS.length], spanGaps: true })),
    ...held.map((id) => ({ label: id === 'held-out' ? 'held-out' : `held-out ${id}`, stroke: id === 'held-out' ? '#000' : COLORS[ids.indexOf(id) % COLORS.length], dash: [6, 4], width: 2, spanGaps: true, points: { show: true, size: 5 } })),
  ];
  return { shape: `${ids.join()}|${held.join()}`, series, data: [m.step, ...ids.map((id) => m.losses[id]), ...held.map((id) => m.heldout[id])] };
}

/** uPlot plugin: a dashed vertical line and a label where a resolution fades in and where its fade ends. */
function marksPlugin(marks) {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        ctx.save();
        ctx.strokeStyle = '#888';
        ctx.fillStyle = '#555';
        ctx.setLineDash([4, 4]);
        ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
        for (const mk of marks()) {
          const x = u.valToPos(mk.step, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          ctx.fillText(mk.what, x + 3, top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

async function trainView(d, section) {
  const [m] = await Promise.all([getJson(api('metrics', { pipeline: state.pipeline, stage: d.view.name })), loadScript('/static/uplot.js')]);
  section('training', h('div', { class: 'facts', id: 'train-facts' }, trainFacts(d, m)));
  const box = h('div', { class: 'chart', id: 'loss-chart' });
  const held = Object.keys(m.heldout || {}).length;
  section(`loss per identity${held ? ', and on held-out frames (dashed)' : ''} (drag to zoom, double-click to reset)`, h('p', { class: 'hint' }, 'dashed grey lines: a new resolution starts fading in, and where its fade-in ends; the loss jumps there because the level is new, not because training diverged'), box);
  const ls = lossSeries(m);
  state.marks = m.marks;
  const chart = new uPlot({ width: chartWidth(), height: 280, scales: { x: { time: false } }, axes: [{ label: 'step' }, { label: 'loss' }], series: ls.series, plugins: [marksPlugin(() => state.marks)] }, ls.data, box);
  chart.shape = ls.shape;
  state.charts.push(chart);
  state.lossChart = chart;
  const kept = d.train.checkpoints || [];
  if (kept.length) section('checkpoints kept', h('p', { class: 'hint', id: 'checkpoints' }, `steps ${kept.join(', ')}: a swap renders from one with 'step: N' (the final model is used without it)`));
  const prev = h('div', { id: 'previews' });
  section('previews (per identity: input | reconstruction | swaps)', prev);
  renderPreviews(prev, d.train);
}

/** Speed figures named as the summary names them; the one ETA is the train's own (in its progress line). */
function trainFacts(d, m) {
  const last = m.last;
  if (!last) return [h('span', {}, 'no steps yet')];
  const mean = (xs) => {
    const v = xs.filter(Number.isFinite);
    return v.length ? v.reduce((s, x) => s + x, 0) / v.length : null;
  };
  const running = d.view.display === 'running';
  const summaryIps = d.view.summary && typeof d.view.summary.imgPerSec === 'number' ? d.view.summary.imgPerSec : null;
  const facts = [
    ['step', last.step],
    ['resolution', `${last.resolution} px`],
    ['alpha', fmtVal(last.alpha)],
    running ? ['img/s (last 50 steps)', fmtVal(mean(m.imgPerSec.slice(-50)))] : ['img/s (mean of all steps)', fmtVal(summaryIps ?? mean(m.imgPerSec))],
    running ? ['ms/step (last 50 steps)', fmtVal(mean(m.msPerStep.slice(-50)))] : ['ms/step (mean of all steps)', fmtVal(mean(m.msPerStep))],
  ];
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
  const ls = lossSeries(m);
  state.marks = m.marks;
  if (c && ls.shape === c.shape) c.setData(ls.data);
  const prev = $('#previews');
  const slider = prev && prev.querySelector('input');
  // keep the slider where the user left it, unless it was on the newest step
  if (prev && (!slider || Number(slider.value) === Number(slider.max))) renderPreviews(prev, d.train);
}

// ---------------------------------------------------------------- start

$('#pipeline').addEventListener('change', (e) => {
  state.pipeline = e.target.value;
  state.stage = null;
  $('#stage').replaceChildren(h('p', { class: 'hint' }, 'Click a stage to see what it made.'));
  renderPipelines();
});
// a shared address, or the browser's back / forward: show the stage it names
window.addEventListener('hashchange', () => {
  const before = `${state.pipeline}/${state.stage}`;
  fromHash();
  if (`${state.pipeline}/${state.stage}` === before) return;
  renderPipelines();
  loadStage(true);
});
window.addEventListener('resize', () => currentPipeline() && renderGraph(currentPipeline()));
fromHash();
connect();
