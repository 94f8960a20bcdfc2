/**
 * A safety margin on the predicted uncovered probability `u` (crop space, side `size`): a pixel counts as
 * covered when `u` is under `threshold`, and the covered region is grown by `margin` pixels (a disc). Blend
 * puts the plate back wherever the face is covered, so a covered pixel missed costs an occluder pixel painted
 * over, while one too many only keeps a little plate skin; the segmenter's misses lie mostly along occluder
 * edges and in thin frames, within a pixel or two of what it finds. Pixels outside the hull stay as they are
 * and never spread into it (the net is not trained there).
 */
export function withMargin(u: Float32Array, hull: Float32Array, size: number, margin: number, threshold: number): Float32Array {
  const cut = Float32Array.from(u, (v, k) => (hull[k] <= 0 ? 1 : v < threshold ? 0 : v));
  if (margin <= 0) return cut;
  const r = Math.ceil(margin);
  const offsets: number[][] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= margin * margin) offsets.push([dx, dy]);
  const out = new Float32Array(cut.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let m = 1;
      for (const [dx, dy] of offsets) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < size && yy < size) m = Math.min(m, cut[yy * size + xx]);
      }
      out[y * size + x] = hull[y * size + x] <= 0 ? u[y * size + x] : m;
    }
  }
  return out;
}
