/** Timing helper of the webgpu benchmarks (bench/engine/webgpu-conv.ts, ssim-loss.ts). */
import { tf } from '@facecomb/engine';

/**
 * Best of several runs: wall ms (to the data read back) and GPU ms: the sum over kernels of each kernel's best
 * timestamp-query time (on a machine shared with other jobs a run where every kernel was undisturbed is rare).
 * whole: GPU ms is instead the best run's total over every program (tf.time): tf.profile attributes time to
 * kernels only, and programs run inside a custom gradient (the fused loss's backward) belong to none.
 */
export async function timeIt(fn: () => tf.Tensor[], budgetMs: number, whole = false): Promise<{ wall: number; gpu: number }> {
  for (let i = 0; i < 2; i++) { const w = fn(); for (const t of w) await t.data(); tf.dispose(w); }
  let wall = Infinity;
  const best = new Map<string, number>();
  const start = performance.now();
  for (let n = 0; n < 4 || (performance.now() - start < budgetMs && n < 30); n++) {
    const t0 = performance.now();
    const out = fn();
    for (const t of out) await t.data();
    wall = Math.min(wall, performance.now() - t0);
    tf.dispose(out);
    if (whole) {
      const tm = await tf.time(() => { tf.dispose(fn()); });
      best.set('all', Math.min(best.get('all') ?? Infinity, tm.kernelMs as number));
      continue;
    }
    const info = await tf.profile(() => fn());
    const run = new Map<string, number>();
    for (const k of info.kernels) run.set(k.name, (run.get(k.name) ?? 0) + (Number(await k.kernelTimeMs) || 0));
    for (const [k, ms] of run) best.set(k, Math.min(best.get(k) ?? Infinity, ms));
  }
  return { wall, gpu: [...best.values()].reduce((a, b) => a + b, 0) };
}

