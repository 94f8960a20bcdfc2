// The occlusion stage's labelling view: pick a frame among the align stage's crops, draw include / exclude
// polygons on it with the mouse, see them rasterised, save them to the stage's labels file (the page's one
// write: POST /api/labels with the token the server embedded in the page). Uses app.js's h, api, getJson,
// fileUrl, thumbUrl, loadImage and state.
'use strict';

const LABEL_VIEW_PX = 384; // the crop is drawn this wide on the editor
const LABEL_HIT_PX = 8; // a click this close (screen px) to a point picks it (or closes the polygon)
const LABEL_COLORS = { include: '#3fdc6a', exclude: '#ff5a4e' };

async function labelSection(v, section) {
  let info;
  try {
    info = await getJson(api('labels', { pipeline: state.pipeline, stage: v.name }));
  } catch (e) {
    section('labels', h('p', { class: 'err', id: 'label-status' }, String(e.message || e)));
    return;
  }
  section(`labels: ${info.file}`, labelEditor(v, info));
}

/** The saved labels, or an empty document (a damaged file is reported, and replaced by the next save). */
function labelDoc(info) {
  try {
    const d = info.text ? JSON.parse(info.text) : null;
    if (d && d.frames && typeof d.frames === 'object') return { version: 1, frames: d.frames };
  } catch {}
  return { version: 1, frames: {} };
}

/** Point-in-polygon (even-odd), points in [0,1] crop space. */
function insidePolygon(pts, [x, y]) {
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function tracePolygon(ctx, pts, w, hgt) {
  ctx.beginPath();
  pts.forEach(([x, y], i) => (i ? ctx.lineTo(x * w, y * hgt) : ctx.moveTo(x * w, y * hgt)));
  ctx.closePath();
}

/** The editor: the crop, the last run's mask (when shown), the frame's polygons and the one being drawn. */
function drawLabelCanvas(canvas, ed, polys, showMask) {
  const ctx = canvas.getContext('2d');
  const W = canvas.width;
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, W, W);
  if (ed.img) ctx.drawImage(ed.img, 0, 0, W, W);
  if (ed.mask && showMask) {
    ctx.globalAlpha = 0.35;
    ctx.drawImage(ed.mask, 0, 0, W, W);
    ctx.globalAlpha = 1;
  }
  const dot = (x, y, r) => ctx.fillRect(x * W - r, y * W - r, 2 * r, 2 * r);
  polys.forEach((p, i) => {
    const sel = ed.selected && ed.selected.poly === i;
    ctx.strokeStyle = LABEL_COLORS[p.mode];
    ctx.fillStyle = `${LABEL_COLORS[p.mode]}${sel ? '55' : '30'}`;
    ctx.lineWidth = sel ? 3 : 2;
    tracePolygon(ctx, p.points, W, W);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = ctx.strokeStyle;
    p.points.forEach(([x, y], j) => dot(x, y, sel && ed.selected.point === j ? 5 : 3));
  });
  if (!ed.drawing) return;
  ctx.strokeStyle = LABEL_COLORS[ed.mode];
  ctx.lineWidth = 2;
  ctx.beginPath();
  [...ed.drawing, ...(ed.hover ? [ed.hover] : [])].forEach(([x, y], i) => (i ? ctx.lineTo(x * W, y * W) : ctx.moveTo(x * W, y * W)));
  ctx.stroke();
  ctx.fillStyle = '#fff';
  ed.drawing.forEach(([x, y]) => dot(x, y, 3));
}

/** The labels at the crop's size as the stage rasterises them (rasteriseLabels): the includes minus the excludes. */
function drawLabelRaster(raster, n, polys) {
  raster.width = raster.height = n;
  const ctx = raster.getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, n, n);
  for (const mode of ['include', 'exclude']) {
    ctx.fillStyle = mode === 'exclude' ? '#000' : '#fff';
    for (const p of polys.filter((q) => q.mode === mode)) {
      tracePolygon(ctx, p.points, n, n);
      ctx.fill();
    }
  }
}

/** The frame strip (crop, mask of the last run, polygon count), made again only when the frame or a count changed. */
function renderLabelStrip(strip, info, ed, pick) {
  const frames = info.crops.frames;
  const sig = `${ed.frame}|${frames.map((f) => (ed.doc.frames[f] || []).length).join()}`;
  if (strip.dataset.sig === sig) return;
  strip.dataset.sig = sig;
  strip.replaceChildren(
    ...frames.map((f) => {
      const n = (ed.doc.frames[f] || []).length;
      const tile = h('figure', { class: `label-tile${f === ed.frame ? ' on' : ''}`, 'data-frame': f, title: `frame ${f}${n ? `: ${n} polygon${n > 1 ? 's' : ''}` : ''}`, onclick: () => pick(f) }, h('img', { src: thumbUrl(`${info.crops.dir}/${f}.png`, 64), alt: f, loading: 'lazy' }));
      if (info.masks) tile.append(h('img', { class: 'mask', src: fileUrl(`${info.masks}/${f}.png`), alt: '', loading: 'lazy', onerror: (e) => e.target.remove() }));
      if (n) tile.append(h('b', {}, String(n)));
      return tile;
    }),
  );
}

/**
 * Mouse and keys on the editor. While drawing: a click adds a point, a click on the first point or Enter closes
 * the polygon, Escape drops it. Otherwise: a click on a point selects it and drags it, a click inside a polygon
 * selects it (Delete removes it), a click elsewhere starts a polygon.
 */
function labelPointer(canvas, ed, polys, act) {
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    const c = (t) => Math.round(Math.min(1, Math.max(0, t)) * 10000) / 10000;
    return [c((e.clientX - r.left) / r.width), c((e.clientY - r.top) / r.height)];
  };
  const near = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]) * canvas.getBoundingClientRect().width <= LABEL_HIT_PX;
  canvas.addEventListener('mousedown', (e) => {
    canvas.focus();
    const p = at(e);
    if (ed.drawing) {
      if (ed.drawing.length >= 3 && near(p, ed.drawing[0])) return act.close(false);
      ed.drawing.push(p);
      return act.draw();
    }
    const ps = polys();
    const hit = ps.map((q, i) => [i, q.points.findIndex((pt) => near(p, pt))]).reverse().find(([, j]) => j >= 0);
    const inside = ps.map((q, i) => [i, insidePolygon(q.points, p)]).reverse().find(([, yes]) => yes);
    ed.selected = hit ? { poly: hit[0], point: hit[1] } : inside ? { poly: inside[0], point: null } : null;
    ed.dragging = Boolean(hit);
    if (!ed.selected) ed.drawing = [p];
    act.draw();
  });
  canvas.addEventListener('mousemove', (e) => {
    const p = at(e);
    if (ed.dragging && ed.selected && ed.selected.point !== null) {
      polys()[ed.selected.poly].points[ed.selected.point] = p;
      act.changed();
    } else if (ed.drawing) {
      ed.hover = p;
      act.draw();
    }
  });
  window.addEventListener('mouseup', () => (ed.dragging = false));
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') act.close(false);
    else if (e.key === 'Escape') {
      ed.drawing = null;
      act.draw();
    } else if (e.key === 'Delete' || e.key === 'Backspace') act.remove();
    else return;
    e.preventDefault();
  });
}

/** Saves the labels (the page's one write); answers the status line's text and whether it is an error. */
async function saveLabelDoc(v, doc) {
  const token = document.querySelector('meta[name="facecomb-token"]').content;
  const frames = Object.fromEntries(Object.entries(doc.frames).filter(([, ps]) => ps.length));
  const r = await fetch(api('labels', { pipeline: state.pipeline, stage: v.name }), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-facecomb-token': token },
    body: JSON.stringify({ version: 1, frames }),
  });
  const body = await r.json().catch(() => ({ error: r.statusText }));
  if (!r.ok) return [`not saved: ${body.error}`, true];
  const s = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
  return [`saved ${s(body.polygons, 'polygon')} on ${s(body.frames, 'frame')} to ${body.file}${body.hint ? `. ${body.hint}` : ''}`, false];
}

// unsaved labels per stage ('pipeline/stage'): they survive opening another stage and the view being rebuilt
const labelDrafts = new Map();
window.addEventListener('beforeunload', (e) => {
  if (labelDrafts.size) e.preventDefault();
});

function labelEditor(v, info) {
  const where = `${state.pipeline}/${v.name}`;
  const ed = { doc: labelDrafts.get(where) || labelDoc(info), frame: null, mode: 'include', drawing: null, selected: null, dragging: false, hover: null, img: null, mask: null };
  const frames = info.crops.frames;
  ed.frame = frames.includes(state.labelFrame) ? state.labelFrame : Object.keys(ed.doc.frames).sort()[0] || frames[0] || null;
  const polys = () => (ed.doc.frames[ed.frame] ||= []);

  // a save makes the stage stale, which rebuilds this view: the save's message stays
  const saved = labelDrafts.has(where) ? 'unsaved changes' : state.labelSaved && state.labelSaved.where === where ? state.labelSaved.text : '';
  const status = h('p', { class: info.error ? 'err' : 'hint', id: 'label-status' }, info.error ? `the saved labels file has errors (the next save replaces it): ${info.error}` : saved);
  const setStatus = (text, err) => {
    status.textContent = text;
    status.className = err ? 'err' : 'hint';
  };
  const canvas = h('canvas', { id: 'label-canvas', width: LABEL_VIEW_PX, height: LABEL_VIEW_PX, tabindex: 0 });
  const raster = h('canvas', { id: 'label-raster', class: 'label-raster' });
  const strip = h('div', { class: 'label-strip', id: 'label-strip' });
  const maskOn = info.masks ? h('input', { type: 'checkbox', id: 'label-mask-on', checked: true, onchange: () => draw() }) : null;
  // the mode of the polygons drawn next (a selected one keeps its own: flip changes it)
  const modes = ['include', 'exclude'].map((m) => h('button', { id: `label-${m}`, class: `label-mode ${m}`, onclick: () => ((ed.mode = m), (ed.selected = null), draw()) }, m));

  const draw = () => {
    modes.forEach((b) => b.classList.toggle('on', b.textContent === ed.mode));
    drawLabelCanvas(canvas, ed, polys(), maskOn && maskOn.checked);
    drawLabelRaster(raster, ed.img ? ed.img.naturalWidth : 64, polys());
    renderLabelStrip(strip, info, ed, pick);
  };
  const changed = () => {
    state.labelsDirty = true;
    labelDrafts.set(where, ed.doc);
    setStatus('unsaved changes', false);
    draw();
  };
  /** Ends the polygon being drawn: kept with 3 points or more; with fewer, said (or dropped quietly when leaving). */
  const close = (quiet) => {
    if (!ed.drawing) return;
    if (ed.drawing.length < 3 && !quiet) return setStatus(`a polygon needs at least 3 points (it has ${ed.drawing.length}); Escape drops it`, true);
    const kept = ed.drawing.length >= 3;
    if (kept) {
      polys().push({ mode: ed.mode, points: ed.drawing });
      ed.selected = { poly: polys().length - 1, point: null };
    }
    ed.drawing = null;
    if (kept) changed();
    else draw();
  };
  const remove = () => {
    if (!ed.selected) return setStatus('select a polygon first (click inside it)', true);
    polys().splice(ed.selected.poly, 1);
    if (!polys().length) delete ed.doc.frames[ed.frame];
    ed.selected = null;
    changed();
  };
  const flip = () => {
    if (!ed.selected) return setStatus('select a polygon first (click inside it)', true);
    const p = polys()[ed.selected.poly];
    p.mode = p.mode === 'exclude' ? 'include' : 'exclude';
    changed();
  };
  async function pick(f) {
    close(true);
    ed.frame = state.labelFrame = f;
    ed.selected = null;
    ed.img = ed.mask = null;
    draw();
    if (!f) return;
    ed.img = await loadImage(fileUrl(`${info.crops.dir}/${f}.png`)).catch(() => null);
    ed.mask = info.masks ? await loadImage(fileUrl(`${info.masks}/${f}.png`)).catch(() => null) : null;
    if (ed.frame === f) draw();
  }
  const save = async () => {
    close(true);
    const [text, err] = await saveLabelDoc(v, ed.doc);
    if (!err) {
      state.labelsDirty = false;
      state.labelSaved = { where, text };
      labelDrafts.delete(where);
    }
    setStatus(text, err);
  };
  labelPointer(canvas, ed, polys, { draw, changed, close, remove });

  const help = 'click: add a point · click the first point or Enter: close · click a polygon: select it (drag its points; flip or Delete it) · Escape: drop the one being drawn';
  const el = h(
    'div',
    { class: 'labels' },
    info.hint ? h('p', { class: 'hint', id: 'label-hint' }, info.hint) : null,
    h('div', { class: 'scrub' }, 'mode ', modes, h('button', { id: 'label-flip', onclick: flip }, 'flip include/exclude'), h('button', { id: 'label-delete', onclick: remove }, 'delete polygon'), maskOn && h('label', {}, maskOn, ' mask of the last run'), h('button', { id: 'label-save', onclick: save }, 'save')),
    status,
    strip,
    h('div', { class: 'row' }, canvas, h('figure', { class: 'label-raster-box' }, raster, h('figcaption', {}, 'rasterised at the crop size: the includes (white) minus the excludes'))),
    h('p', { class: 'hint' }, help),
  );
  pick(ed.frame);
  return el;
}
