// Visible-face masks from @vladmandic/human's face mesh (the silhouette of its 468 points) and hands (their
// 21 keypoints' convex hull, grown by a fifth), for bench/occlusion/run.ts --mesh DIR. The package is not a
// dependency of the project: install it beside (npm install --no-save @vladmandic/human@3.3.6) and pass its folder.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { applyAffine, readSamples, type Affine } from '@facecomb/image';
import { rasteriseLabels, type LabelPolygon } from '../../packages/occlusion/src/index.ts';

type Point = [number, number];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Convex hull (monotone chain) of points. */
function convexHull(pts: Point[]): Point[] {
  const p = [...pts].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const half = (list: Point[]) => list.reduce<Point[]>((h, q) => {
    while (h.length >= 2 && cross(h[h.length - 2], h[h.length - 1], q) <= 0) h.pop();
    h.push(q);
    return h;
  }, []);
  const lower = half(p);
  const upper = half([...p].reverse());
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/** Grows a polygon about its centroid by `k`. */
function grow(poly: Point[], k: number): Point[] {
  const cx = poly.reduce((s, q) => s + q[0], 0) / poly.length;
  const cy = poly.reduce((s, q) => s + q[1], 0) / poly.length;
  return poly.map(([x, y]) => [cx + (x - cx) * k, cy + (y - cy) * k]);
}

export interface MeshMasks { mesh: Float32Array | null; meshHands: Float32Array | null; hands: number }

/** Loads human from `dir` on the wasm engine, reading its models from disk (Node's fetch has no file://). */
export async function loadHuman(dir: string): Promise<Any> {
  const plain = globalThis.fetch;
  globalThis.fetch = (async (u: Any, o: Any) => {
    const s = String(u?.url ?? u);
    if (!s.startsWith('file://')) return plain(u, o);
    return new Response(await readFile(new URL(s)), { headers: { 'content-type': s.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
  }) as typeof fetch;
  const require = createRequire(join(dir, 'package.json'));
  const wasm = join(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'), '..', 'dist/');
  const { Human } = require('./dist/human.node-wasm.js');
  const human = new Human({
    backend: 'wasm', wasmPath: `file://${wasm}`, modelBasePath: `file://${join(dir, 'models')}/`, debug: false,
    face: { enabled: true, detector: { maxDetected: 1 }, mesh: { enabled: true }, iris: { enabled: false }, emotion: { enabled: false }, description: { enabled: false }, antispoof: { enabled: false }, liveness: { enabled: false } },
    body: { enabled: false }, hand: { enabled: true, maxDetected: 2 }, object: { enabled: false }, gesture: { enabled: false }, segmentation: { enabled: false },
  });
  await human.load();
  return human;
}

/** The mesh masks of one plate in the crop space of `matrix` (crop `size` px); null where no face was found. */
export async function meshMasks(human: Any, plateFile: string, matrix: Affine, size: number): Promise<MeshMasks> {
  const s = await readSamples(plateFile, { channels: 3 });
  const tf = human.tf;
  const t = tf.tidy(() => tf.cast(tf.expandDims(tf.tensor3d(Int32Array.from(s.data), [s.height, s.width, 3], 'int32'), 0), 'float32'));
  const r = await human.detect(t);
  t.dispose();
  const toCrop = (pts: number[][]): Point[] => pts.map(([x, y]) => applyAffine(matrix, x, y)).map(([u, v]) => [Math.min(1, Math.max(0, u / size)), Math.min(1, Math.max(0, v / size))]);
  const face = r.face[0];
  if (!face?.annotations?.silhouette) return { mesh: null, meshHands: null, hands: r.hand.length };
  const oval: LabelPolygon = { mode: 'include', points: toCrop(face.annotations.silhouette) };
  const hands: LabelPolygon[] = r.hand.map((h: Any) => ({ mode: 'exclude' as const, points: grow(convexHull(toCrop(h.keypoints)), 1.2) }));
  const f = (m: Uint8Array) => Float32Array.from(m, (v) => v / 255);
  return { mesh: f(rasteriseLabels([oval], size)), meshHands: f(rasteriseLabels([oval, ...hands], size)), hands: r.hand.length };
}
