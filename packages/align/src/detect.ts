import { readImage, type Image } from '@facecomb/image';
import type { Runtime, Tensor } from './tf.js';
import type { Box } from './landmarks.js';

export interface Detection {
  box: Box;
  score: number;
  /** 128-d face descriptor, when asked for. */
  descriptor?: Float32Array;
}

function toTensor(rt: Runtime, img: Image): Tensor {
  if (img.channels !== 3) throw new Error('face detection expects an RGB image');
  const n = img.width * img.height * 3;
  const v = new Int32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.round(img.data[i] * 255);
  return rt.tf.tensor3d(v, [img.height, img.width, 3], 'int32');
}

/**
 * All faces SSD MobileNet v1 finds with a score >= minScore; with `descriptors`, each also gets face-api's
 * 128-d face descriptor (computed on its own landmark-aligned chip).
 */
export async function detectFaces(rt: Runtime, img: Image, minScore: number, descriptors = false): Promise<Detection[]> {
  const t = toTensor(rt, img);
  try {
    const opts = new rt.faceapi.SsdMobilenetv1Options({ minConfidence: minScore, maxResults: 20 });
    const task = rt.faceapi.detectAllFaces(t, opts);
    if (!descriptors) {
      const dets = (await task) as { box: { x: number; y: number; width: number; height: number }; score: number }[];
      return dets.map((d) => ({ box: [d.box.x, d.box.y, d.box.width, d.box.height] as Box, score: d.score }));
    }
    const res = (await task.withFaceLandmarks().withFaceDescriptors()) as {
      detection: { box: { x: number; y: number; width: number; height: number }; score: number };
      descriptor: Float32Array;
    }[];
    return res.map((r) => ({
      box: [r.detection.box.x, r.detection.box.y, r.detection.box.width, r.detection.box.height] as Box,
      score: r.detection.score,
      descriptor: r.descriptor,
    }));
  } finally {
    t.dispose();
  }
}

export function descriptorDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** The descriptor of the largest face in a reference photo; a clear error when it shows no face. */
export async function referenceDescriptor(rt: Runtime, file: string, minScore = 0.3): Promise<Float32Array> {
  const img = await readImage(file, { channels: 3 }).catch((e: Error) => {
    throw new Error(`reference image: ${e.message}`);
  });
  const faces = await detectFaces(rt, img, minScore, true);
  if (faces.length === 0) {
    throw new Error(`reference image ${file}: no face found; give a photo in which the person's face is clearly visible (frontal, at least ~80 px wide)`);
  }
  return largest(faces).descriptor!;
}

export function largest<T extends { box: Box }>(faces: T[]): T {
  return faces.reduce((a, b) => (b.box[2] * b.box[3] > a.box[2] * a.box[3] ? b : a));
}

export type Selection = { kind: 'largest' } | { kind: 'reference'; descriptor: Float32Array; maxDistance: number };

/**
 * Picks the face to align: the largest, or the one nearest the reference descriptor (null, with the
 * reason, when even the nearest is further than maxDistance: a different person).
 */
export function selectFace(faces: Detection[], sel: Selection): { face: Detection | null; distance?: number; reason?: string } {
  if (faces.length === 0) return { face: null, reason: 'no face detected' };
  if (sel.kind === 'largest') return { face: largest(faces) };
  let best: Detection | null = null;
  let bestD = Infinity;
  for (const f of faces) {
    const d = descriptorDistance(f.descriptor!, sel.descriptor);
    if (d < bestD) { bestD = d; best = f; }
  }
  if (bestD > sel.maxDistance) return { face: null, distance: bestD, reason: `no face matches the reference (nearest descriptor distance ${bestD.toFixed(3)} > maxDistance ${sel.maxDistance})` };
  return { face: best, distance: bestD };
}
