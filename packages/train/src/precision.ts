/**
 * The `precision` train param at run time: f16 conv arithmetic with dynamic loss scaling where the engine can
 * (webgpu on an adapter with shader-f16), otherwise a logged fallback to f32 (a pipeline asking for f16 still
 * runs on any machine, as it does on any engine; meta.json records the precision used).
 */
import { LossScaler, setWebgpuPrecision, webgpuHasF16, type LossScaleOptions } from '@facecomb/engine';

export interface PrecisionRun {
  /** The precision in use. */
  precision: 'f32' | 'f16';
  /** The loss scaler of an f16 run. */
  scaler?: LossScaler;
  /** Logs the scaler's state (one read) and restores f32; call once when training ends. */
  end(log: (line: string) => void): Promise<void>;
}

/** Why f16 cannot run on this engine, or null when it can. */
export function f16Unavailable(engine: string): string | null {
  if (engine !== 'webgpu') return `the ${engine} engine has no f16 path (webgpu with shader-f16 only)`;
  return webgpuHasF16() ? null : 'this WebGPU adapter does not offer shader-f16';
}

/** The scaler options of a run: a resumed f16 run starts at the scale its checkpoint saved (within the bounds). */
export function resumedScale(o: LossScaleOptions | undefined, saved: number | undefined): LossScaleOptions | undefined {
  if (saved === undefined || !(saved > 0)) return o;
  const min = o?.min ?? 1, max = o?.max ?? 2 ** 24;
  return { ...o, initial: Math.min(max, Math.max(min, saved)) };
}

export function startPrecision(requested: 'f32' | 'f16', engine: string, log: (line: string) => void, scale?: LossScaleOptions): PrecisionRun {
  const f32: PrecisionRun = { precision: 'f32', end: async () => undefined };
  if (requested === 'f32') return f32;
  const why = f16Unavailable(engine);
  if (why) {
    log(`precision f16: ${why}; training in f32`);
    return f32;
  }
  setWebgpuPrecision('f16');
  const scaler = new LossScaler(scale);
  log(`precision f16: conv operands in f16 with f32 accumulation, f32 weights, loss scale from ${scale?.initial ?? 2 ** 15} (dynamic)`);
  return {
    precision: 'f16',
    scaler,
    end: async (out) => {
      try {
        const st = await scaler.read();
        out(`precision f16: loss scale ${st.scale}, ${st.skipped} step(s) skipped for a non-finite gradient`);
      } finally {
        setWebgpuPrecision('f32');
        scaler.dispose();
      }
    },
  };
}
