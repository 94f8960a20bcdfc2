// Frame viewing for the stage views: a player (play/pause at the clip's rate, frame-step keys), a viewport with
// fit / 1:1 zoom and drag-to-pan, and a wipe between two frame sequences. Uses h(), fileUrl(), thumbUrl() of app.js.
'use strict';

/** Sets an image's source and resolves once it is decoded (or failed): playback waits for each frame. */
function setSrc(img, src) {
  if (img.getAttribute('src') === src) return Promise.resolve();
  img.src = src;
  return img.decode().catch(() => undefined);
}

const frameFile = (dir, f) => `${dir}/${pad6(f)}.png`;

/**
 * A frame player. show(f, mode) must show frame f and return a promise (mode 'full': the full image, 'thumb':
 * a thumbnail while scrubbing). Playback advances at most at `fps`, never faster than frames load.
 */
function player(frames, fps, show) {
  let i = 0;
  let timer = 0;
  let busy = false;
  const label = h('span', { class: 'frame-label' });
  const input = h('input', { type: 'range', min: 0, max: frames.length - 1, value: 0, step: 1, class: 'frame-scrub', 'aria-label': 'frame' });
  const play = h('button', { class: 'play', title: 'play / pause (space)' }, '▶ play');
  const go = (k, mode) => {
    i = (k + frames.length) % frames.length;
    input.value = i;
    label.textContent = `frame ${frames[i]} (${i + 1}/${frames.length})`;
    label.dataset.frame = frames[i];
    return show(frames[i], mode);
  };
  const stop = () => {
    clearInterval(timer);
    timer = 0;
    play.textContent = '▶ play';
  };
  const toggle = () => {
    if (timer) return stop();
    play.textContent = '❚❚ pause';
    timer = setInterval(() => {
      if (!input.isConnected) return stop(); // the view was replaced
      if (busy) return;
      busy = true;
      go(i + 1, 'full').finally(() => (busy = false));
    }, 1000 / fps);
  };
  play.addEventListener('click', toggle);
  input.addEventListener('input', () => go(Number(input.value), 'thumb'));
  input.addEventListener('change', () => go(Number(input.value), 'full'));
  const step = (d) => {
    stop();
    go(i + d, 'full');
  };
  const el = h(
    'div',
    { class: 'scrub player' },
    play,
    h('button', { title: 'previous frame (←)', onclick: () => step(-1) }, '◀'),
    h('button', { title: 'next frame (→)', onclick: () => step(1) }, '▶'),
    input,
    label,
    h('span', { class: 'hint' }, `${fmtVal(fps)} fps · ← → step · space play`),
  );
  const ctl = { el, step, toggle, stop };
  state.players.push(ctl);
  go(0, 'full');
  return ctl;
}

/** A viewport around images: fit to the page, or 1:1 (one image pixel per screen pixel) with drag-to-pan. */
function viewport(content) {
  const box = h('div', { class: 'viewport' }, content);
  const btn = h('button', { class: 'zoom', title: 'fit / 1:1 (z)' }, '1:1');
  const set = (one) => {
    box.classList.toggle('one', one);
    btn.textContent = one ? 'fit' : '1:1';
    btn.dataset.zoom = one ? '1:1' : 'fit';
  };
  btn.addEventListener('click', () => set(!box.classList.contains('one')));
  let drag = null;
  box.addEventListener('mousedown', (e) => {
    if (!box.classList.contains('one') || e.target.tagName === 'INPUT') return;
    drag = { x: e.clientX, y: e.clientY, l: box.scrollLeft, t: box.scrollTop };
    e.preventDefault();
  });
  window.addEventListener('mousemove', (e) => {
    if (!drag) return;
    box.scrollLeft = drag.l - (e.clientX - drag.x);
    box.scrollTop = drag.t - (e.clientY - drag.y);
  });
  window.addEventListener('mouseup', () => (drag = null));
  const ctl = { box, btn, toggle: () => set(!box.classList.contains('one')) };
  state.viewports.push(ctl);
  set(false);
  return ctl;
}

/** One frame sequence: player, zoom, the frame. */
function framesView(dir, frames, fps) {
  const img = h('img', { class: 'frame', alt: 'frame' });
  const vp = viewport(img);
  const pl = player(frames, fps, (f, mode) => setSrc(img, mode === 'thumb' ? thumbUrl(frameFile(dir, f), 256) : fileUrl(frameFile(dir, f))));
  return h('div', {}, h('div', { class: 'row tools' }, pl.el, vp.btn), vp.box);
}

/** Two frame sequences over the same frame numbers: a wipe (the slider moves the cut) and, fitted, side by side. */
function wipeView(c, id) {
  const first = c.frames[0];
  const a = h('img', { alt: c.a.label, src: fileUrl(frameFile(c.a.dir, first)) });
  const b = h('img', { alt: c.b.label, class: 'top', src: fileUrl(frameFile(c.b.dir, first)) });
  const line = h('div', { class: 'line' });
  const wipe = h('div', { class: 'wipe', id }, a, b, line);
  const sideA = h('img', { class: 'frame', alt: c.a.label });
  const sideB = h('img', { class: 'frame', alt: c.b.label });
  const slider = h('input', { type: 'range', min: 0, max: 100, value: 50, step: 1, class: 'wipe-slider', id: `${id}-slider`, 'aria-label': 'wipe' });
  const setWipe = () => {
    // left of the line: a; right of it: b
    b.style.clipPath = `inset(0 0 0 ${slider.value}%)`;
    line.style.left = `${slider.value}%`;
  };
  slider.addEventListener('input', setWipe);
  setWipe();
  const vp = viewport(wipe);
  const src = (dir, f, mode) => (mode === 'thumb' ? thumbUrl(frameFile(dir, f), 512) : fileUrl(frameFile(dir, f)));
  const pl = player(c.frames, c.fps || 24, (f, mode) => Promise.all([a, sideA].map((i) => setSrc(i, src(c.a.dir, f, mode))).concat([b, sideB].map((i) => setSrc(i, src(c.b.dir, f, mode))))));
  return h(
    'div',
    {},
    h('div', { class: 'row tools' }, pl.el, vp.btn),
    h('div', { class: 'scrub' }, h('span', {}, `wipe: ${c.a.label}`), slider, h('span', {}, c.b.label)),
    h('div', { class: 'row' }, vp.box, h('div', { class: 'row pair' }, h('figure', {}, sideA, h('figcaption', {}, c.a.label)), h('figure', {}, sideB, h('figcaption', {}, c.b.label)))),
  );
}

// keys drive the view's last player and viewport (not while typing in a field)
document.addEventListener('keydown', (e) => {
  if (e.target.tagName === 'SELECT' || e.target.tagName === 'TEXTAREA' || (e.target.tagName === 'INPUT' && e.target.type !== 'range')) return;
  const pl = state.players.filter((p) => p.el.isConnected).pop();
  const vp = state.viewports.filter((v) => v.box.isConnected).pop();
  if (pl && (e.key === 'ArrowRight' || e.key === 'ArrowLeft')) {
    pl.step(e.key === 'ArrowRight' ? 1 : -1);
    e.preventDefault();
  } else if (pl && e.key === ' ') {
    pl.toggle();
    e.preventDefault();
  } else if (vp && e.key === 'z') vp.toggle();
});
