/**
 * Scratch buffers reused across frames: a blend of a 1024 px face allocates the same few
 * megabytes every frame, so each named buffer is kept and grown only when a frame needs more.
 */
export class BufferPool {
  private f32 = new Map<string, Float32Array>();
  private f64 = new Map<string, Float64Array>();
  private i32 = new Map<string, Int32Array>();

  /** A Float32Array of exactly `n` elements (a view of a kept buffer); contents are undefined unless `zero`. */
  f(name: string, n: number, zero = false): Float32Array {
    let b = this.f32.get(name);
    if (!b || b.length < n) {
      b = new Float32Array(Math.ceil(n * 1.1) + 16);
      this.f32.set(name, b);
    }
    const v = b.subarray(0, n);
    if (zero) v.fill(0);
    return v;
  }

  d(name: string, n: number, zero = false): Float64Array {
    let b = this.f64.get(name);
    if (!b || b.length < n) {
      b = new Float64Array(Math.ceil(n * 1.1) + 16);
      this.f64.set(name, b);
    }
    const v = b.subarray(0, n);
    if (zero) v.fill(0);
    return v;
  }

  i(name: string, n: number): Int32Array {
    let b = this.i32.get(name);
    if (!b || b.length < n) {
      b = new Int32Array(Math.ceil(n * 1.1) + 16);
      this.i32.set(name, b);
    }
    return b.subarray(0, n);
  }
}
