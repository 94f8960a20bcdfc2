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

function labelEditor(v, info) {
  const ed = { doc: labelDoc(info), frame: null, mode: 'include', drawing: null, selected: null, dragging: false, hover: null, img: null, mask: null };
  const frames = info.crops.frames;
  ed.frame = frames.includes(state.labelFrame) ? state.labelFrame : Object.keys(ed.doc.frames).sort()[0] || frames[0] || null;
  const polys = () => (ed.doc.frames[ed.frame] ||= []);
  const token = document.querySelector('meta[name="facecomb-token"]').content;

  const status = h('p', { class: info.error ? 'err' : 'hint', id: 'label-status' }, info.error ? `the saved labels file has errors (the next save replaces it): ${info.error}` : '');
  const setStatus = (text, err) => {
    status.textContent = text;
    status.className = err ? 'err' : 'hint';
  };
  const canvas = h('canvas', { id: 'label-canvas', width: LABEL_VIEW_PX, height: LABEL_VIEW_PX, tabindex: 0 });
  const raster = h('canvas', { id: 'label-raster', class: 'label-raster' });
  const modeBtn = (m) => h('button', { id: `label-${m}`, class: `label-mode ${m}`, onclick: () => setMode(m) }, m);
  const modes = [modeBtn('include'), modeBtn('exclude')];
  const strip = h('div', { class: 'label-strip', id: 'label-strip' });

  const markDirty = () => {
    state.labelsDirty = true;
    setStatus('unsaved changes', false);
  };
  /** The mode of the polygons drawn next (a selected one keeps its own: 'flip' changes it). */
  const setMode = (m) => {
    ed.mode = m;
    ed.selected = null;
    draw();
  };
  const flipSelected = () => {
    if (!ed.selected) return setStatus('select a polygon first (click inside it)', true);
    const p = polys()[ed.selected.poly];
    p.mode = p.mode === 'exclude' ? 'include' : 'exclude';
    markDirty();
    draw();
  };

  const drawRaster = () => {
    const n = ed.img ? ed.img.naturalWidth : 64;
    raster.width = raster.height = n;
    const ctx = raster.getContext('2d');
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, n, n);
    // as the stage rasterises them (rasteriseLabels): the union of the includes, minus every exclude
    for (const mode of ['include', 'exclude']) {
      ctx.fillStyle = mode === 'exclude' ? '#000' : '#fff';
      for (const p of polys().filter((q) => q.mode === mode)) {
        tracePolygon(ctx, p.points, n, n);
        ctx.fill();
      }
    }
  };

  function draw() {
    modes.forEach((b) => b.classList.toggle('on', b.textContent === ed.mode));
    const ctx = canvas.getContext('2d');
    const W = canvas.width;
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, W, W);
    if (ed.img) ctx.drawImage(ed.img, 0, 0, W, W);
    if (ed.mask && document.querySelector('#label-mask-on')?.checked) {
      ctx.globalAlpha = 0.35;
      ctx.drawImage(ed.mask, 0, 0, W, W);
      ctx.globalAlpha = 1;
    }
    polys().forEach((p, i) => {
      const sel = ed.selected && ed.selected.poly === i;
      ctx.strokeStyle = LABEL_COLORS[p.mode] || '#fff';
      ctx.fillStyle = `${LABEL_COLORS[p.mode] || '#ffffff'}${sel ? '55' : '30'}`;
      ctx.lineWidth = sel ? 3 : 2;
      tracePolygon(ctx, p.points, W, W);
      ctx.fill();
      ctx.stroke();
      ctx.fillStyle = ctx.strokeStyle;
      p.points.forEach(([x, y], j) => ctx.fillRect(x * W - (sel && ed.selected.point === j ? 5 : 3), y * W - (sel && ed.selected.point === j ? 5 : 3), sel && ed.selected.point === j ? 10 : 6, sel && ed.selected.point === j ? 10 : 6));
    });
    if (ed.drawing) {
      ctx.strokeStyle = LABEL_COLORS[ed.mode];
      ctx.lineWidth = 2;
      ctx.beginPath();
      [...ed.drawing, ...(ed.hover ? [ed.hover] : [])].forEach(([x, y], i) => (i ? ctx.lineTo(x * W, y * W) : ctx.moveTo(x * W, y * W)));
      ctx.stroke();
      ctx.fillStyle = '#fff';
      ed.drawing.forEach(([x, y]) => ctx.fillRect(x * W - 3, y * W - 3, 6, 6));
    }
    drawRaster();
    renderStrip();
  }

  /** The frame strip, made again only when the picked frame or a frame's polygon count changed. */
  function renderStrip() {
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

  async function pick(f) {
    closeDrawing(true);
    ed.frame = state.labelFrame = f;
    ed.selected = null;
    ed.img = ed.mask = null;
    draw();
    if (!f) return;
    ed.img = await loadImage(fileUrl(`${info.crops.dir}/${f}.png`)).catch(() => null);
    ed.mask = info.masks ? await loadImage(fileUrl(`${info.masks}/${f}.png`)).catch(() => null) : null;
    if (ed.frame === f) draw();
  }

  /** Ends the polygon being drawn: kept when it has 3 points or more, else dropped (quietly when leaving the frame). */
  function closeDrawing(quiet) {
    if (!ed.drawing) return;
    if (ed.drawing.length >= 3) {
      polys().push({ mode: ed.mode, points: ed.drawing });
      ed.selected = { poly: polys().length - 1, point: null };
      markDirty();
    } else if (!quiet) setStatus(`a polygon needs at least 3 points (it has ${ed.drawing.length}); Escape drops it`, true);
    if (ed.drawing.length >= 3 || quiet) ed.drawing = null;
    draw();
  }

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
      if (ed.drawing.length >= 3 && near(p, ed.drawing[0])) closeDrawing(false);
      else ed.drawing.push(p);
      return draw();
    }
    const ps = polys();
    for (let i = ps.length - 1; i >= 0; i--) {
      const j = ps[i].points.findIndex((q) => near(p, q));
      if (j >= 0) {
        ed.selected = { poly: i, point: j };
        ed.dragging = true;
        return draw();
      }
    }
    for (let i = ps.length - 1; i >= 0; i--) {
      if (insidePolygon(ps[i].points, p)) {
        ed.selected = { poly: i, point: null };
        return draw();
      }
    }
    ed.selected = null;
    ed.drawing = [p];
    draw();
  });
  canvas.addEventListener('mousemove', (e) => {
    const p = at(e);
    if (ed.dragging && ed.selected && ed.selected.point !== null) {
      polys()[ed.selected.poly].points[ed.selected.point] = p;
      markDirty();
      draw();
    } else if (ed.drawing) {
      ed.hover = p;
      draw();
    }
  });
  window.addEventListener('mouseup', () => (ed.dragging = false));
  canvas.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') closeDrawing(false);
    else if (e.key === 'Escape') {
      ed.drawing = null;
      draw();
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && ed.selected) deleteSelected();
    else return;
    e.preventDefault();
  });

  function deleteSelected() {
    if (!ed.selected) return;
    polys().splice(ed.selected.poly, 1);
    if (!polys().length) delete ed.doc.frames[ed.frame];
    ed.selected = null;
    markDirty();
    draw();
  }

  async function save() {
    closeDrawing(true);
    const frames = Object.fromEntries(Object.entries(ed.doc.frames).filter(([, ps]) => ps.length));
    const r = await fetch(api('labels', { pipeline: state.pipeline, stage: v.name }), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-facecomb-token': token },
      body: JSON.stringify({ version: 1, frames }),
    });
    const body = await r.json().catch(() => ({ error: r.statusText }));
    if (!r.ok) return setStatus(`not saved: ${body.error}`, true);
    state.labelsDirty = false;
    setStatus(`saved ${body.polygons} polygon${body.polygons === 1 ? '' : 's'} on ${body.frames} frame${body.frames === 1 ? '' : 's'} to ${body.file}${body.hint ? `. ${body.hint}` : ''}`, false);
  }

  const maskToggle = info.masks ? h('label', {}, h('input', { type: 'checkbox', id: 'label-mask-on', checked: true, onchange: draw }), ' mask of the last run') : null;
  const help = 'click: add a point · click the first point or Enter: close · click a polygon: select it (drag its points; flip or Delete it) · Escape: drop the one being drawn';
  const el = h(
    'div',
    { class: 'labels' },
    info.hint ? h('p', { class: 'hint', id: 'label-hint' }, info.hint) : null,
    h('div', { class: 'scrub' }, 'mode ', modes, h('button', { id: 'label-flip', onclick: flipSelected }, 'flip include/exclude'), h('button', { id: 'label-delete', onclick: deleteSelected }, 'delete polygon'), maskToggle, h('button', { id: 'label-save', onclick: save }, 'save')),
    status,
    strip,
    h('div', { class: 'row' }, h('figure', {}, canvas, h('figcaption', {}, help)), h('figure', {}, raster, h('figcaption', {}, 'the labels rasterised at the crop size: the includes (white) minus the excludes'))),
  );
  pick(ed.frame);
  return el;
}
