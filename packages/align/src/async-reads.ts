/**
 * face-api 1.7's SSD detector (`locateFaces`) and 68-point landmark net (`detectLandmarks`) read their
 * outputs with dataSync/arraySync. On the webgpu engine in Node a synchronous read needs OffscreenCanvas,
 * which Node lacks, so detection died there. This replaces both methods on the loaded nets with the same
 * post-processing (face-api's non-max suppression, box scaling and landmark layout, transcribed) after an
 * asynchronous read. Installed on every engine, so the wasm tests check it against face-api's own results.
 */
import type { FaceApi } from './tf.js';

interface TensorLike {
  data(): Promise<ArrayLike<number>>;
  array(): Promise<unknown>;
  dispose(): void;
}

/** face-api's IOU of boxes i and j ([top, left, bottom, right], any corner order). */
function iou(boxes: number[][], i: number, j: number): number {
  const a = boxes[i], b = boxes[j];
  const [ay0, ax0, ay1, ax1] = [Math.min(a[0], a[2]), Math.min(a[1], a[3]), Math.max(a[0], a[2]), Math.max(a[1], a[3])];
  const [by0, bx0, by1, bx1] = [Math.min(b[0], b[2]), Math.min(b[1], b[3]), Math.max(b[0], b[2]), Math.max(b[1], b[3])];
  const areaA = (ay1 - ay0) * (ax1 - ax0), areaB = (by1 - by0) * (bx1 - bx0);
  if (areaA <= 0 || areaB <= 0) return 0;
  const inter = Math.max(Math.min(ay1, by1) - Math.max(ay0, by0), 0) * Math.max(Math.min(ax1, bx1) - Math.max(ax0, bx0), 0);
  return inter / (areaA + areaB - inter);
}

/** face-api's greedy non-max suppression: indices of the kept boxes, best score first. */
export function nonMaxSuppression(boxes: number[][], scores: number[], maxResults: number, iouThreshold: number, minScore: number): number[] {
  const limit = Math.min(maxResults, boxes.length);
  const candidates = scores.map((score, boxIndex) => ({ score, boxIndex })).filter((c) => c.score > minScore).sort((a, b) => b.score - a.score);
  const kept: number[] = [];
  for (const c of candidates) {
    if (kept.length >= limit) break;
    const original = c.score;
    for (let k = kept.length - 1; k >= 0; --k) {
      const o = iou(boxes, c.boxIndex, kept[k]);
      if (o === 0) continue;
      c.score *= o <= iouThreshold ? 1 : 0;
      if (c.score <= minScore) break;
    }
    if (original === c.score) kept.push(c.boxIndex);
  }
  return kept;
}

/** Replaces locateFaces and detectLandmarks on face-api's loaded nets (idempotent). */
export function installAsyncReads(faceapi: FaceApi): void {
  const ssd = faceapi.nets.ssdMobilenetv1;
  const lm = faceapi.nets.faceLandmark68Net;
  if (ssd.__asyncReads) return;
  ssd.__asyncReads = true;

  ssd.locateFaces = async function locateFaces(input: unknown, options: unknown = {}) {
    const { maxResults, minConfidence } = new faceapi.SsdMobilenetv1Options(options);
    const netInput = await faceapi.toNetInput(input);
    const { boxes, scores } = this.forwardInput(netInput) as { boxes: TensorLike[]; scores: TensorLike[] };
    for (let i = 1; i < boxes.length; i++) { boxes[i].dispose(); scores[i].dispose(); }
    let b: number[][], s: number[];
    try {
      [b, s] = await Promise.all([boxes[0].array() as Promise<number[][]>, scores[0].data().then((d) => Array.from(d))]);
    } finally {
      boxes[0].dispose();
      scores[0].dispose();
    }
    const kept = nonMaxSuppression(b, s, maxResults, 0.5, minConfidence);
    const dims = netInput.getReshapedInputDimensions(0);
    const sx = netInput.inputSize / dims.width, sy = netInput.inputSize / dims.height;
    const imageDims = { height: netInput.getInputHeight(0), width: netInput.getInputWidth(0) };
    return kept.map((k) => {
      const top = Math.max(0, b[k][0]) * sy, bottom = Math.min(1, b[k][2]) * sy;
      const left = Math.max(0, b[k][1]) * sx, right = Math.min(1, b[k][3]) * sx;
      return new faceapi.FaceDetection(s[k], new faceapi.Rect(left, top, right - left, bottom - top), imageDims);
    });
  };

  lm.detectLandmarks = async function detectLandmarks(input: unknown) {
    const netInput = await faceapi.toNetInput(input);
    const outs = faceapi.tf.tidy(() => faceapi.tf.unstack(this.forwardInput(netInput))) as TensorLike[];
    let values: ArrayLike<number>[];
    try {
      values = await Promise.all(outs.map((t) => t.data()));
    } finally {
      for (const t of outs) t.dispose();
    }
    const res = values.map((v, i) => {
      const points = Array.from({ length: 68 }, (_, k) => new faceapi.Point(v[2 * k], v[2 * k + 1]));
      return new faceapi.FaceLandmarks68(points, { height: netInput.getInputHeight(i), width: netInput.getInputWidth(i) });
    });
    return netInput.isBatchInput ? res : res[0];
  };
}
