/**
 * The fused-loss benchmark (used by bench/engine/ssim-loss.ts and by bench/gpu/comb.ts --loss on the GPU machine):
 * the masked SSIM + L1 loss and its gradient w.r.t. the prediction on the webgpu engine, fused kernels
 * (engine src/webgpu/ssim-loss.ts) against the composed tf ops (setWebgpuLoss(false)) in the same run, window 7,
 * SSIM and L1 weight 1; both results checked against each other. GPU ms: the best run's total over all programs
 * (timestamp queries; tf.time, since the fused backward runs inside a custom gradient, outside any kernel that
 * tf.profile times); wall ms: best of runs to the data read back.
 */
import { tf, setWebgpuLoss } from '@facecomb/engine';
import { reconstructionLoss } from '../../packages/train/src/loss.js';
import { timeIt } from './gpu-time.js';

export interface LossRow {
  resolution: number; batch: number;
  fusedGpuMs: number; composedGpuMs: number; fusedWallMs: number; composedWallMs: number;
  fusedDispatches: number; composedDispatches: number; lossRelErr: number; gradRelErr: number;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / Math.max(m, 1e-30);
}

/** One row per size; `onRow` sees each as soon as it is measured (for partial results). */
export async function benchLoss(sizes: number[], batch: number, budgetMs: number, onRow: (r: LossRow) => void = () => {}): Promise<LossRow[]> {
  const weights = { ssim: 1, l1: 1, msssim: false, window: 7, detail: 0 };
  const be = tf.backend() as unknown as { runWebGPUProgram: (...a: unknown[]) => unknown };
  let dispatches = 0;
  const run = be.runWebGPUProgram;
  be.runWebGPUProgram = function (this: unknown, ...a: unknown[]) { dispatches++; return run.apply(this, a); };
  const rows: LossRow[] = [];
  try {
    for (const r of sizes) {
      const y = tf.randomUniform([batch, r, r, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
      const x = tf.randomUniform([batch, r, r, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
      // a float mask (a cast from bool would keep an int32 buffer on webgpu and take the composed ops)
      const m = tf.tensor4d(Float32Array.from({ length: batch * r * r }, (_, i) => ((i * 7919) % 10 < 8 ? 1 : 0)), [batch, r, r, 1]);
      const step = () => {
        const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => reconstructionLoss(t as tf.Tensor4D, x, m, weights))(y);
        return [value, grad];
      };
      const row = { resolution: r, batch } as unknown as Record<string, number>;
      const outs: Record<string, Float32Array[]> = {};
      for (const v of ['fused', 'composed'] as const) {
        setWebgpuLoss(v === 'fused');
        const d0 = dispatches;
        const o = step();
        outs[v] = [await o[0].data(), await o[1].data()] as Float32Array[];
        tf.dispose(o);
        row[`${v}Dispatches`] = dispatches - d0;
        const t = await timeIt(step, budgetMs, true);
        row[`${v}GpuMs`] = t.gpu;
        row[`${v}WallMs`] = t.wall;
      }
      setWebgpuLoss(true);
      row.lossRelErr = relErr(outs.fused[0], outs.composed[0]);
      row.gradRelErr = relErr(outs.fused[1], outs.composed[1]);
      rows.push(row as unknown as LossRow);
      onRow(row as unknown as LossRow);
      tf.dispose([y, x, m]);
    }
  } finally {
    be.runWebGPUProgram = run;
    setWebgpuLoss(true);
  }
  return rows;
}

/** The table of benchLoss's rows (markdown). */
export function lossTable(rows: LossRow[]): string[] {
  return [
    '| px | B | fused GPU ms | composed GPU ms | GPU ratio | fused wall ms | composed wall ms | wall ratio | dispatches fused / composed | loss err | grad err |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((w) => `| ${[w.resolution, w.batch, w.fusedGpuMs.toFixed(2), w.composedGpuMs.toFixed(2), (w.composedGpuMs / w.fusedGpuMs).toFixed(2),
      w.fusedWallMs.toFixed(1), w.composedWallMs.toFixed(1), (w.composedWallMs / w.fusedWallMs).toFixed(2),
      `${w.fusedDispatches} / ${w.composedDispatches}`, w.lossRelErr.toExponential(1), w.gradRelErr.toExponential(1)].join(' | ')} |`),
  ];
}
