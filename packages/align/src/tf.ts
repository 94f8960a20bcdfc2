import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { initEngine, type BackendRequest } from '@facecomb/engine';
import { installAsyncReads } from './async-reads.js';

/**
 * The tfjs runtime and face-api, loaded through `require` so that face-api's node-wasm build and this
 * package share one CommonJS copy of @tensorflow/tfjs (and so one engine and one set of backends).
 */
const require = createRequire(import.meta.url);

// Narrow structural types of what we use: the packages' own typings are large and (for face-api's
// node-wasm build) refer to the browser build.
export interface Tensor {
  shape: number[];
  dispose(): void;
  data(): Promise<Float32Array | Int32Array | Uint8Array>;
}
export interface Tf {
  setBackend(name: string): Promise<boolean>;
  ready(): Promise<void>;
  getBackend(): string;
  tensor3d(values: Float32Array | Int32Array, shape: [number, number, number], dtype?: string): Tensor;
  tensor4d(values: Float32Array, shape: [number, number, number, number], dtype?: string): Tensor;
  unstack(t: Tensor): Tensor[];
  memory(): { numTensors: number; numBytes: number };
  env(): { set(flag: string, v: unknown): void };
}
export type FaceApi = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Runtime {
  tf: Tf;
  faceapi: FaceApi;
  /** The engine in use (e.g. 'wasm'). */
  backend: string;
  /** Why it was chosen (for the run log). */
  why: string;
  /** Where face detection and landmarks run, for the run log. */
  detection: string;
}

let runtime: Promise<Runtime> | undefined;

/** The face-api model folder that ships with @vladmandic/face-api. */
export function modelDir(): string {
  const dir = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  if (!existsSync(join(dir, 'ssd_mobilenetv1_model-weights_manifest.json'))) {
    throw new Error(`face-api models not found in ${dir}: reinstall @vladmandic/face-api (npm install)`);
  }
  return dir;
}

/**
 * Initialises the tensor engine once per process through @facecomb/engine (auto: the first of tensorflow,
 * webgpu, wasm, cpu that starts). Loads the three face-api models used here: SSD MobileNet v1, 68-point landmarks, face descriptor.
 */
export function initRuntime(requested = 'auto'): Promise<Runtime> {
  if (!runtime) {
    runtime = (async () => {
      const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
      if (!BACKENDS.includes(requested)) {
        throw new Error(`FACECOMB_BACKEND='${requested}' is not an engine: use one of ${BACKENDS.join(', ')}`);
      }
      // @facecomb/engine picks and initialises the engine (local wasm binaries, kernel fixes) on the same
      // @tensorflow/tfjs instance that face-api's node-wasm build requires below.
      const engine = await initEngine({ backend: requested as BackendRequest });
      const tf = require('@tensorflow/tfjs') as Tf;
      const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
      const backend = engine.name;
      const skipped = engine.skipped.map((s) => `${s.name}: ${s.why}`).join('; ');
      const why = skipped ? `${engine.why} (skipped ${skipped})` : engine.why;
      const dir = modelDir();
      await faceapi.nets.ssdMobilenetv1.loadFromDisk(dir);
      await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
      await faceapi.nets.faceRecognitionNet.loadFromDisk(dir);
      installAsyncReads(faceapi);
      const detection = `face detection, landmarks and descriptors ran on ${backend} (face-api; outputs read asynchronously, so no dataSync on GPU engines)`;
      return { tf, faceapi, backend, why, detection };
    })();
    runtime.catch(() => { runtime = undefined; });
  }
  return runtime;
}
