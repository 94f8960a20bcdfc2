import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

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
  /** The backend in use: 'wasm' or 'cpu'. */
  backend: string;
  /** Why it was chosen (for the run log). */
  why: string;
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

/** The local folder holding tfjs-backend-wasm's .wasm binaries (never fetched from a CDN). */
export function wasmDir(): string {
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
}

/**
 * Initialises tfjs once per process: the wasm backend (SIMD, local binaries) for `auto` or `wasm`,
 * falling back to the pure-JS cpu backend when wasm cannot start; `cpu` forces the cpu backend.
 * Loads the three face-api models used here: SSD MobileNet v1, 68-point landmarks, face descriptor.
 */
export function initRuntime(requested = 'auto'): Promise<Runtime> {
  if (!runtime) {
    runtime = (async () => {
      const want = requested === 'auto' || requested === '' ? 'wasm' : requested;
      if (want !== 'wasm' && want !== 'cpu') {
        throw new Error(`backend '${requested}' is not available to align (it runs on wasm or cpu): use FACECOMB_BACKEND=auto, wasm or cpu`);
      }
      const tf = require('@tensorflow/tfjs') as Tf;
      const wasm = require('@tensorflow/tfjs-backend-wasm') as { setWasmPaths(p: string): void };
      const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
      let backend = 'cpu';
      let why = 'requested cpu';
      if (want === 'wasm') {
        wasm.setWasmPaths(wasmDir());
        const quiet = console.warn; // tfjs prints the wasm loader's failure itself; we report it once below
        let ok = false;
        try {
          console.warn = () => {};
          ok = await tf.setBackend('wasm');
          await tf.ready();
        } catch {
          ok = false;
        } finally {
          console.warn = quiet;
        }
        if (ok && tf.getBackend() === 'wasm') {
          backend = 'wasm';
          why = requested === 'wasm' ? 'requested wasm' : 'auto: wasm (SIMD) initialised from local binaries';
        } else {
          why = 'wasm backend failed to initialise; fell back to the cpu backend (slow)';
        }
      }
      if (backend === 'cpu') {
        await tf.setBackend('cpu');
        await tf.ready();
      }
      const dir = modelDir();
      await faceapi.nets.ssdMobilenetv1.loadFromDisk(dir);
      await faceapi.nets.faceLandmark68Net.loadFromDisk(dir);
      await faceapi.nets.faceRecognitionNet.loadFromDisk(dir);
      return { tf, faceapi, backend, why };
    })();
    runtime.catch(() => { runtime = undefined; });
  }
  return runtime;
}
