import type { Image } from '@facecomb/image';
import type { Runtime } from '../tf.js';
import type { Point } from '../template.js';
import { loadHumanModel, type GraphModel } from './models.js';

/**
 * Hands in a plate, as human (@vladmandic/human) finds them: its HandTrack detector (an SSD run on the plate at
 * up to 512 px, read before its post-processing loop, non-max suppression here), then MediaPipe's hand
 * landmark model (21 points) on each box grown 1.4x. Classes other than the face count as a hand.
 */
const DETECTOR_OUTPUTS = ['StatefulPartitionedCall/Postprocessor/Slice', 'StatefulPartitionedCall/Postprocessor/ExpandDims_1'];
const FACE_CLASS = 4;
const MAX_SIDE = 512;
const BOX_GROW = 1.4;
const SKELETON_INPUT = 224;

export interface HandParams {
  /** Most hands kept in a frame. */
  max: number;
  /** Smallest landmark-model hand score (0..1) taken as a hand. */
  minScore: number;
}
// Around the faces of face-api's six sample photos and two congress frames, the landmark model scored the
// detector's real hands 0.75-0.99 and its false finds (a badge, hair, faces, clothes) 0.001-0.46, while the
// detector's own scores overlap (0.2-0.63 for both).
export const DEFAULT_HANDS: HandParams = { max: 2, minScore: 0.5 };
/** Detector boxes under this score are not looked at; the landmark model's score decides among the rest. */
const CANDIDATE_SCORE = 0.2;
const CANDIDATES = 6;

export interface Hand {
  /** The 21 keypoints in plate pixels. */
  points: Point[];
  score: number;
}

let models: Promise<[GraphModel, GraphModel]> | undefined;

function handModels(rt: Runtime): Promise<[GraphModel, GraphModel]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const tf = rt.tf as any;
  models ??= Promise.all([loadHumanModel(tf, 'handtrack'), loadHumanModel(tf, 'handlandmark-lite')]);
  models.catch(() => { models = undefined; });
  return models;
}

/** Boxes [x, y, w, h] (0..1 of the plate) the detector finds, best first, after non-max suppression. */
async function detectBoxes(tf: any, net: GraphModel, plate: any): Promise<{ box: [number, number, number, number]; score: number }[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const [h, w] = plate.shape.slice(1, 3) as [number, number];
  const height = Math.min(Math.round(h / 8) * 8, MAX_SIDE);
  const width = Math.round((height * w) / h / 8) * 8;
  const input = tf.tidy(() => tf.cast(tf.image.resizeBilinear(plate, [height, width]), 'int32'));
  const [rawScores, rawBoxes] = (await net.executeAsync(input, DETECTOR_OUTPUTS)) as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  const t = tf.tidy(() => {
    const boxes = tf.squeeze(rawBoxes, [0, 2]);
    const scores = tf.squeeze(rawScores, [0]);
    const hand = tf.concat([scores.slice([0, 0], [-1, FACE_CLASS]), scores.slice([0, FACE_CLASS + 1], [-1, -1])], 1);
    return { boxes, max: tf.max(hand, 1) };
  });
  try {
    const keep = await tf.image.nonMaxSuppressionAsync(t.boxes, t.max, CANDIDATES, 0.2, CANDIDATE_SCORE);
    const [idx, scores, boxes] = await Promise.all([keep.data(), t.max.data(), t.boxes.data()]);
    keep.dispose();
    return Array.from(idx as Int32Array).map((i) => {
      const [y0, x0, y1, x1] = [boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]];
      return { box: [x0, y0, x1 - x0, y1 - y0] as [number, number, number, number], score: scores[i] };
    });
  } finally {
    tf.dispose([input, rawScores, rawBoxes, t.boxes, t.max]);
  }
}

/** The hands in a plate (RGB, 0..1): each one's 21 keypoints in plate pixels. */
export async function detectHands(rt: Runtime, img: Image, params: HandParams = DEFAULT_HANDS): Promise<Hand[]> {
  const [detector, skeleton] = await handModels(rt);
  const tf = rt.tf as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const plate = tf.tidy(() => tf.mul(tf.tensor4d(img.data, [1, img.height, img.width, 3]), 255));
  try {
    const hands: Hand[] = [];
    for (const d of await detectBoxes(tf, detector, plate)) {
      const [bw, bh] = [d.box[2] * BOX_GROW, d.box[3] * BOX_GROW];
      const [bx, by] = [d.box[0] - (bw - d.box[2]) / 2, d.box[1] - (bh - d.box[3]) / 2];
      const out = tf.tidy(() => {
        const crop = tf.div(tf.image.cropAndResize(plate, [[by, bx, by + bh, bx + bw]], [0], [SKELETON_INPUT, SKELETON_INPUT], 'bilinear'), 255);
        return skeleton.execute(crop, ['Identity_1', 'Identity']);
      });
      const [raw, kp] = await Promise.all([out[0].data(), out[1].data()]);
      tf.dispose(out);
      // the landmark model's first output is already the chance that the box holds a hand (human passes it
      // through a sigmoid again, which maps every box to 0.5 or more)
      const score = raw[0];
      if (score < params.minScore) continue;
      const points: Point[] = [];
      for (let k = 0; k < 21; k++) points.push([img.width * (bx + (kp[3 * k] / SKELETON_INPUT) * bw), img.height * (by + (kp[3 * k + 1] / SKELETON_INPUT) * bh)]);
      hands.push({ points, score });
      if (hands.length === params.max) break;
    }
    return hands;
  } finally {
    plate.dispose();
  }
}

/** The part of `img` inside [x0, y0, x1, y1) (integer pixels, clamped). */
function subImage(img: Image, x0: number, y0: number, x1: number, y1: number): Image {
  const w = x1 - x0, h = y1 - y0, c = img.channels;
  const data = new Float32Array(w * h * c);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * c, ((y0 + y) * img.width + x1) * c), y * w * c);
  return { width: w, height: h, channels: c, data };
}

/**
 * Hands near a face: the detector runs on the face's box grown `reach` times about its centre (clamped to the
 * plate), where a hand can cover the face, and at a higher resolution than on the whole plate. Points in plate pixels.
 */
export async function detectHandsNear(rt: Runtime, img: Image, box: [number, number, number, number], params: HandParams = DEFAULT_HANDS, reach = 3): Promise<Hand[]> {
  const [cx, cy, half] = [box[0] + box[2] / 2, box[1] + box[3] / 2, (Math.max(box[2], box[3]) * reach) / 2];
  const x0 = Math.max(0, Math.floor(cx - half)), y0 = Math.max(0, Math.floor(cy - half));
  const x1 = Math.min(img.width, Math.ceil(cx + half)), y1 = Math.min(img.height, Math.ceil(cy + half));
  if (x1 - x0 < 16 || y1 - y0 < 16) return [];
  const hands = await detectHands(rt, subImage(img, x0, y0, x1, y1), params);
  return hands.map((h) => ({ score: h.score, points: h.points.map(([x, y]): Point => [x + x0, y + y0]) }));
}
