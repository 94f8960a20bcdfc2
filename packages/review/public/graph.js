// The overview: the shot's verdict (its score gate) and the stage graph, laid out by dagre (served from
// node_modules, like uPlot) left to right so that a fan-in of identity sets does not cross. Uses app.js helpers.
'use strict';

const NODE_W = 150;
const NODE_H = 124; // a 56 px thumbnail, the name, the state line, the why line

function bounds(f) {
  return [f.min !== undefined && `≥ ${f.min}`, f.max !== undefined && `≤ ${f.max}`].filter(Boolean).join(' and ');
}

function renderVerdict(p) {
  const box = $('#verdict');
  const v = p.verdict;
  if (!v) {
    box.className = 'verdict none';
    box.replaceChildren(h('span', { class: 'hint' }, 'No score stage in this pipeline: add one with thresholds to get a pass / fail verdict.'));
    box.onclick = null;
    return;
  }
  const word = { pass: 'PASS', fail: 'FAIL', unscored: 'NOT SCORED' }[v.result];
  box.className = `verdict ${v.result}`;
  box.dataset.result = v.result;
  box.replaceChildren(
    ...[
    h('b', { class: 'word' }, word),
    h('span', {}, `score gate '${v.stage}'`),
    ...v.figures.map((f) => h('span', { class: `fig ${f.ok ? 'ok' : 'bad'}`, title: f.what || '' }, `${f.ok ? '✓' : '✗'} ${f.name} ${fmtVal(f.value)} (${bounds(f)})`)),
    v.result === 'pass' && !v.figures.length ? h('span', { class: 'hint' }, 'no thresholds set: every run passes') : null,
    v.note ? h('span', { class: 'hint' }, v.note) : null,
    ].filter(Boolean),
  );
  box.title = v.breaches.join('\n');
  box.onclick = () => select(v.stage);
}

/** d3's basis spline through dagre's edge points. */
function basisPath(pts) {
  let d = `M${pts[0].x},${pts[0].y}`;
  if (pts.length < 3) return `${d}L${pts[pts.length - 1].x},${pts[pts.length - 1].y}`;
  let [x0, y0, x1, y1] = [pts[0].x, pts[0].y, pts[1].x, pts[1].y];
  d += `L${(5 * x0 + x1) / 6},${(5 * y0 + y1) / 6}`;
  const bez = (x, y) => (d += `C${(2 * x0 + x1) / 3},${(2 * y0 + y1) / 3} ${(x0 + 2 * x1) / 3},${(y0 + 2 * y1) / 3} ${(x0 + 4 * x1 + x) / 6},${(y0 + 4 * y1 + y) / 6}`);
  for (const p of pts.slice(2)) {
    bez(p.x, p.y);
    [x0, y0, x1, y1] = [x1, y1, p.x, p.y];
  }
  bez(x1, y1);
  return `${d}L${x1},${y1}`;
}

/**
 * Needs implied by a longer path (score needs train and swap, and swap needs train): `upstream>stage` keys. They
 * are left out of the layout: each would span several columns, and dagre's cost grows with every column an
 * edge crosses (50 stages that each also need the first one: 1.5 s of layout, against 0.1 s without).
 */
function impliedNeeds(stages) {
  const reach = new Map(); // stage -> everything upstream of it (stages come dependencies first)
  for (const s of stages) reach.set(s.name, new Set(s.needs.flatMap((n) => [n, ...(reach.get(n) ?? [])])));
  const implied = new Set();
  for (const s of stages) for (const n of s.needs) if (s.needs.some((m) => m !== n && reach.get(m)?.has(n))) implied.add(`${n}>${s.name}`);
  return implied;
}

/** Node positions and edge paths, computed once per graph shape (states change far more often). */
function layoutOf(p) {
  const shape = p.stages.map((s) => `${s.name}<${s.needs.join(',')}`).join(';');
  if (state.layout?.shape === shape) return state.layout;
  // a reload of the page reuses the last layout of the same graph (dagre takes tens of ms for 50 stages)
  const storeKey = `facecomb-layout:${p.name}`;
  try {
    const kept = JSON.parse(localStorage.getItem(storeKey) || 'null');
    if (kept?.shape === shape) return (state.layout = { ...kept, pos: new Map(kept.pos) });
  } catch {
    /* no storage: lay out again */
  }
  if (typeof dagre === 'undefined') {
    // dagre (49 KB) is loaded only when a graph has to be laid out: a reload of a known graph needs none of it
    loadScript('/static/dagre.js').then(() => currentPipeline() && renderGraph(currentPipeline()));
    return null;
  }
  const implied = impliedNeeds(p.stages);
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'LR', nodesep: 12, ranksep: 40, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of p.stages) g.setNode(s.name, { width: NODE_W, height: NODE_H });
  for (const s of p.stages) for (const n of s.needs) if (g.hasNode(n) && !implied.has(`${n}>${s.name}`)) g.setEdge(n, s.name);
  dagre.layout(g);
  const pos = new Map(p.stages.map((s) => [s.name, g.node(s.name)]));
  const edges = g.edges().map((e) => ({ d: basisPath(g.edge(e).points), implied: false }));
  // the implied needs: faint curves from the upstream's right side to the stage's left side
  for (const key of implied) {
    const [a, b] = key.split('>').map((n) => pos.get(n));
    const [x1, y1, x2, y2] = [a.x + NODE_W / 2, a.y, b.x - NODE_W / 2, b.y];
    edges.push({ d: `M${x1},${y1}C${x1 + 40},${y1} ${x2 - 40},${y2} ${x2},${y2}`, implied: true });
  }
  state.layout = { shape, pos, edges, width: g.graph().width, height: g.graph().height };
  try {
    localStorage.setItem(storeKey, JSON.stringify({ ...state.layout, pos: [...pos].map(([n, { x, y }]) => [n, { x, y }]) }));
  } catch {
    /* full or disabled: fine */
  }
  return state.layout;
}

function renderGraph(p) {
  const g = $('#graph');
  if (p.error) {
    g.replaceChildren(h('p', { class: 'err' }, `${p.file}: cannot be loaded\n${p.error}`));
    return;
  }
  const L = layoutOf(p);
  if (!L) return g.replaceChildren(h('p', { class: 'hint' }, 'laying out the stages…'));
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', L.width);
  svg.setAttribute('height', L.height);
  for (const e of L.edges) {
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', e.d);
    if (e.implied) path.setAttribute('class', 'implied');
    svg.append(path);
  }
  const nodes = p.stages.map((s) => {
    const { x, y } = L.pos.get(s.name);
    const why = s.display === 'stale' ? s.reasons.join('; ') : s.display === 'failed' ? `failed ${s.failedAt?.slice(0, 19).replace('T', ' ') ?? ''}` : s.display === 'running' ? progressText(s.progress) : [s.engine, fmtMs(s.durationMs)].filter(Boolean).join(' · ');
    const pct = s.progress?.total ? Math.min(100, (100 * s.progress.done) / s.progress.total) : 0;
    return h(
      'div',
      { class: `node ${s.display}${state.stage === s.name ? ' selected' : ''}`, style: `left:${x - NODE_W / 2}px;top:${y - NODE_H / 2}px;width:${NODE_W}px;height:${NODE_H}px`, 'data-stage': s.name, 'data-state': s.display, title: `${s.name} (${s.kind}) ${s.display}\nkey ${s.key}${s.reasons.length ? `\n${s.reasons.join('\n')}` : ''}`, onclick: () => select(s.name) },
      h('div', { class: 'thumb' }, s.thumb ? h('img', { src: thumbUrl(s.thumb, 128), alt: `${s.name}`, loading: 'lazy' }) : h('span', {}, s.kind)),
      h('div', { class: 'name' }, s.name),
      h('div', { class: 'sub' }, h('span', { class: `badge ${s.display}` }, s.display), ` ${s.kind}`),
      h('div', { class: 'why' }, why),
      s.display === 'running' ? h('div', { class: 'bar' }, h('div', { style: `width:${pct}%` })) : null,
    );
  });
  // scaled down to the page's width (never up): the whole graph at a glance, no sideways scrolling
  const k = Math.min(1, (g.clientWidth - 4) / L.width);
  g.replaceChildren(h('div', { class: 'fit', style: `height:${Math.ceil(L.height * k)}px` }, h('div', { class: 'canvas', style: `width:${L.width}px;height:${L.height}px;transform:scale(${k})` }, svg, ...nodes)));
}
