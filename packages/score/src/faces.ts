import { warpAffine, type Affine, type Image } from '@facecomb/image';
import {
  detectFaces, initRuntime, landmarksInWindows, modelDir, windowMatrix, FACE_TYPE_EXTENT, NET_SIZE, REFINE_WINDOW,
  type FaceType, type Point, type Runtime,
} from '@facecomb/align';

/** What face-api's nets say about one aligned face crop. */
export interface FaceReading {
  /** 68 points in crop pixels. */
  landmarks: Point[];
  /** The 7-class expression probabilities (face-api's order: neutral, happy, sad, angry, fearful, disgusted, surprised). */
  expression: number[];
  /** 128-d face descriptor. */
  descriptor: Float32Array;
  /** Whether SSD MobileNet v1 finds a face in the crop (only when asked to detect). */
  detected?: boolean;
}

export const EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];

/** Input side of face-api's recognition net. */
const REC_SIZE = 150;

interface Tensor { dispose(): void; data(): Promise<Float32Array | Int32Array | Uint8Array> }

/**
 * The window (crop pixels -> the 112 px input of the landmark and expression nets) in which an aligned crop
 * of `size` and `faceType` shows the face: align's second-pass window (the box SSD MobileNet gives on
 * average), placed from the alignment template. The crop is aligned, so no detection is needed to find it.
 */
export function cropWindow(size: number, faceType: FaceType): Affine {
  const { pad, shift } = FACE_TYPE_EXTENT[faceType];
  const k = (size - 1) / (1 + 2 * pad);
  const w = REFINE_WINDOW;
  return windowMatrix((w.cx + pad) * k, (w.cy + pad) * k + shift * (size - 1), w.side * k);
}

const centre = (l: Point[], from: number, to: number): Point => {
  let x = 0, y = 0;
  for (let i = from; i < to; i++) { x += l[i][0]; y += l[i][1]; }
  return [x / (to - from), y / (to - from)];
};

/**
 * The chip face-api describes for these landmarks (its dlib-style alignment: a square of side
 * eye-to-mouth distance / 0.45 about the centre of the eyes and mouth), as a matrix crop -> 150 px.
 */
export function descriptorWindow(l: Point[]): Affine {
  const eyes = [centre(l, 36, 42), centre(l, 42, 48)];
  const mouth = centre(l, 48, 68);
  const dist = (eyes.reduce((s, e) => s + Math.hypot(mouth[0] - e[0], mouth[1] - e[1]), 0)) / 2;
  const side = dist / 0.45;
  const cx = (eyes[0][0] + eyes[1][0] + mouth[0]) / 3, cy = (eyes[0][1] + eyes[1][1] + mouth[1]) / 3;
  const x0 = cx - 0.5 * side, y0 = cy - 0.43 * side, k = REC_SIZE / side;
  return [k, 0, -k * x0, 0, k, -k * y0];
}

function toBatch(rt: Runtime, crops: Image[], windows: Affine[], side: number): { list: Tensor[]; dispose(): void } {
  const px = side * side * 3;
  const batch = new Float32Array(crops.length * px);
  crops.forEach((c, i) => {
    const chip = warpAffine(c, windows[i], side, side, { replicate: true });
    for (let j = 0; j < px; j++) batch[i * px + j] = chip.data[j] * 255;
  });
  const t4 = rt.tf.tensor4d(batch, [crops.length, side, side, 3]);
  const list = rt.tf.unstack(t4) as Tensor[];
  return { list, dispose: () => { t4.dispose(); for (const t of list) t.dispose(); } };
}

async function forward(net: { forward(x: unknown): Promise<Tensor> }, input: { list: Tensor[]; dispose(): void }): Promise<Float32Array> {
  let out: Tensor | undefined;
  try {
    out = await net.forward(input.list);
    return (await out.data()) as Float32Array;
  } finally {
    input.dispose();
    out?.dispose();
  }
}

/** face-api's landmark, expression, recognition and detector nets on aligned face crops. */
export class FaceReader {
  private constructor(readonly rt: Runtime) {}

  /**
   * Starts the tensor engine (through @facecomb/align) and loads the expression net besides align's three.
   * `auto` means wasm here: face-api's detector reads tensors synchronously (dataSync), which the webgpu
   * engine cannot do in Node, and these small nets run well on one CPU core.
   */
  static async open(backend = 'auto'): Promise<FaceReader> {
    const rt = await initRuntime(backend === 'auto' ? 'wasm' : backend);
    const nets = rt.faceapi.nets;
    if (!nets.faceExpressionNet.isLoaded) await nets.faceExpressionNet.loadFromDisk(modelDir());
    return new FaceReader(rt);
  }

  /**
   * Reads a batch of RGB crops (all of `size` and `faceType`): landmarks and expression in the crop's face
   * window, the descriptor on face-api's chip placed from those landmarks, and (with `detect`) whether the
   * detector still finds a face with a score >= `minScore`.
   */
  async read(crops: Image[], faceType: FaceType, opts: { detect?: boolean; minScore?: number } = {}): Promise<FaceReading[]> {
    if (crops.length === 0) return [];
    const win = crops.map((c) => cropWindow(c.width, faceType));
    const landmarks: Point[][] = [];
    for (let i = 0; i < crops.length; i++) landmarks.push((await landmarksInWindows(this.rt, crops[i], [win[i]]))[0]);
    const nets = this.rt.faceapi.nets;
    const expr = await forward(nets.faceExpressionNet, toBatch(this.rt, crops, win, NET_SIZE));
    const desc = await forward(nets.faceRecognitionNet, toBatch(this.rt, crops, landmarks.map(descriptorWindow), REC_SIZE));
    const out: FaceReading[] = crops.map((_, i) => ({
      landmarks: landmarks[i],
      expression: Array.from(expr.subarray(i * 7, i * 7 + 7)),
      descriptor: desc.slice(i * 128, (i + 1) * 128),
    }));
    if (opts.detect) {
      for (let i = 0; i < crops.length; i++) out[i].detected = (await detectFaces(this.rt, crops[i], opts.minScore ?? 0.5)).length > 0;
    }
    return out;
  }
}
