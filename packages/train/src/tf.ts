/**
 * The single door to the tensor library: every tensor op in this package goes through `tf` from here,
 * which is the project's one tfjs instance (@facecomb/engine: backends, registered training kernels).
 */
import { tf, initEngine as selectEngine, type BackendRequest } from '@facecomb/engine';

export { tf };
export type Tensor = tf.Tensor;
export type Tensor1D = tf.Tensor1D;
export type Tensor2D = tf.Tensor2D;
export type Tensor4D = tf.Tensor4D;
export type Variable = tf.Variable;
export type Scalar = tf.Scalar;

export interface EngineChoice {
  name: string;
  why: string;
  skipped: { name: string; why: string }[];
}

const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

/** Selects the tensor engine (FACECOMB_BACKEND: auto | tensorflow | webgpu | wasm | cpu). */
export async function initEngine(opts: { backend: string; log?: (line: string) => void }): Promise<EngineChoice> {
  const want = opts.backend || 'auto';
  if (!BACKENDS.includes(want)) throw new Error(`FACECOMB_BACKEND='${want}' is not an engine: use one of ${BACKENDS.join(', ')}`);
  const e = await selectEngine({ backend: want as BackendRequest, log: opts.log });
  return { name: e.name, why: e.why, skipped: e.skipped };
}
