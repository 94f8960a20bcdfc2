import type { Affine } from '@facecomb/image';
import { umeyama } from './umeyama.js';

export type Point = [number, number];
export type FaceType = 'face' | 'wholeface' | 'head';
export const FACE_TYPES: readonly FaceType[] = ['face', 'wholeface', 'head'];

/**
 * Mean face of the 68-point (iBUG / dlib) layout, points 17..67 (brows, nose, eyes, mouth; the jaw is left
 * out because it moves with the mouth), in a unit square. The template used by dlib, DeepFaceLab and
 * faceswap for similarity alignment.
 */
const MEAN_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127,
  0.490127, 0.490127, 0.490127, 0.36688, 0.426036, 0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825,
  0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149, 0.340985,
  0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379,
  0.428096, 0.490127, 0.552157, 0.689874, 0.553364, 0.490127, 0.42689,
];
const MEAN_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454,
  0.203352, 0.307009, 0.409805, 0.515625, 0.587326, 0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758,
  0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099, 0.780233,
  0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805,
  0.784792, 0.778746, 0.785343, 0.778746, 0.784792, 0.824182, 0.831803, 0.824182,
];
/** Index of the first template point in the 68-point layout. */
export const TEMPLATE_FIRST = 17;
export const MEAN_FACE: Point[] = MEAN_X.map((x, i) => [x, MEAN_Y[i]]);

/**
 * How much of the head a crop shows: the unit template square is padded by `pad` on every side and moved
 * down in the crop by `shift` (of the padded size), which brings the forehead/hair in for the larger types.
 * face ~ DeepFaceLab "full face", wholeface ~ its "whole face" (forehead), head ~ its "head".
 */
export const FACE_TYPE_EXTENT: Record<FaceType, { pad: number; shift: number }> = {
  face: { pad: 0.2109375, shift: 0 },
  wholeface: { pad: 0.4, shift: 0.07 },
  head: { pad: 0.7, shift: 0.1 },
};

/** The template points (for the 68-point indices 17..67) in crop pixels for a crop of `size` and `faceType`. */
export function templateInCrop(size: number, faceType: FaceType): Point[] {
  const { pad, shift } = FACE_TYPE_EXTENT[faceType];
  const k = (size - 1) / (1 + 2 * pad);
  return MEAN_FACE.map(([x, y]) => [(x + pad) * k, (y + pad) * k + shift * (size - 1)]);
}

/** Similarity matrix (plate -> crop pixels) aligning 68 landmarks to the template for a crop of `size`. */
export function alignMatrix(landmarks: Point[], size: number, faceType: FaceType): Affine {
  if (landmarks.length !== 68) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  return umeyama(landmarks.slice(TEMPLATE_FIRST), templateInCrop(size, faceType));
}

/** Mean of the six points of each eye (36-41, 42-47). */
export function eyeCentres(l: Point[]): [Point, Point] {
  const c = (a: number): Point => {
    let x = 0, y = 0;
    for (let i = a; i < a + 6; i++) { x += l[i][0]; y += l[i][1]; }
    return [x / 6, y / 6];
  };
  return [c(36), c(42)];
}

/** Inter-ocular distance: between the eye centres. */
export function interOcular(l: Point[]): number {
  const [a, b] = eyeCentres(l);
  return Math.hypot(a[0] - b[0], a[1] - b[1]);
}
