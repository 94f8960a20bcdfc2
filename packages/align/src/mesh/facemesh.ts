import type { Image } from '@facecomb/image';
import type { Runtime } from '../tf.js';
import type { Point } from '../template.js';
import { loadHumanModel, type GraphModel } from './models.js';

/** MediaPipe FaceMesh's input side (192 px) and the box it expects: the face's box grown 1.4x, as human feeds it. */
const INPUT = 192;
const BOX_SCALE = 1.4;

export interface FaceMesh {
  /** The 468 mesh points in crop pixels (x, y). */
  points: Point[];
  /** The model's face flag, 0..1: how sure it is that the box holds a face. */
  score: number;
}

let model: Promise<GraphModel> | undefined;

function faceMeshModel(rt: Runtime): Promise<GraphModel> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  model ??= loadHumanModel(rt.tf as any, 'facemesh');
  model.catch(() => { model = undefined; });
  return model;
}

/** The square box the mesh reads (crop pixels): the 68 landmarks' jaw-and-brows box, grown 1.4x about its centre. */
export function meshBox(landmarks: Point[]): [number, number, number] {
  const face = landmarks.slice(0, 27);
  const xs = face.map((p) => p[0]), ys = face.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const side = Math.max(x1 - x0, y1 - y0) * BOX_SCALE;
  return [(x0 + x1) / 2 - side / 2, (y0 + y1) / 2 - side / 2, side];
}

/**
 * Runs MediaPipe FaceMesh (from @vladmandic/human's models) on an aligned crop, in the box the crop's 68
 * landmarks give, then once more in that box re-centred on the mesh: the crop is already upright, so no
 * rotation is needed. Returns the 468 points in crop pixels.
 */
export async function faceMesh(rt: Runtime, crop: Image, landmarks: Point[]): Promise<FaceMesh> {
  const first = meshBox(landmarks);
  const mesh = await runMesh(rt, crop, first);
  // a second read in the box re-centred on the first mesh, as human tracks a face from frame to frame: on
  // three real frames, ten mesh points (eye and mouth corners, chin, jaw sides, nose) came from 0.117 to 0.104
  // inter-ocular distances of their face-api counterparts on average
  const xs = mesh.points.map((p) => p[0]), ys = mesh.points.map((p) => p[1]);
  const cx = (Math.min(...xs) + Math.max(...xs)) / 2, cy = (Math.min(...ys) + Math.max(...ys)) / 2;
  return runMesh(rt, crop, [cx - first[2] / 2, cy - first[2] / 2, first[2]]);
}

async function runMesh(rt: Runtime, crop: Image, [bx, by, side]: [number, number, number]): Promise<FaceMesh> {
  const net = await faceMeshModel(rt);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const tf = rt.tf as any;
  const { width: w, height: h } = crop;
  const out = tf.tidy(() => {
    const img = tf.tensor4d(crop.data, [1, h, w, 3]);
    const input = tf.image.cropAndResize(img, [[by / h, bx / w, (by + side) / h, (bx + side) / w]], [0], [INPUT, INPUT]);
    return net.execute(input, ['Identity_2:0', 'Identity_1:0']);
  });
  try {
    const [mesh, flag] = await Promise.all([out[0].data(), out[1].data()]);
    const points: Point[] = [];
    for (let i = 0; i < 468; i++) points.push([bx + (mesh[3 * i] / INPUT) * side, by + (mesh[3 * i + 1] / INPUT) * side]);
    return { points, score: flag[0] };
  } finally {
    tf.dispose(out);
  }
}
