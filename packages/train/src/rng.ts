/**
 * Seeded, counter-based random numbers. A stream is fully described by (seed, key, counter), so its state
 * is a plain JSON object: checkpoints store it and a resumed run draws exactly the numbers an
 * uninterrupted run would have drawn.
 */

/** 32-bit FNV-1a of a string, mixed with a seed. */
export function hash32(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

export interface RngState {
  seed: number;
  key: string;
  counter: number;
}

/** sfc32-style generator seeded from (seed, key); `counter` counts draws so the state can be restored. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  counter = 0;

  constructor(readonly seed: number, readonly key: string = '', counter = 0) {
    this.a = hash32(seed, `a:${key}`);
    this.b = hash32(seed, `b:${key}`);
    this.c = hash32(seed, `c:${key}`);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.raw();
    this.counter = 0;
    for (let i = 0; i < counter; i++) this.raw();
  }

  static restore(s: RngState): Rng {
    return new Rng(s.seed, s.key, s.counter);
  }

  state(): RngState {
    return { seed: this.seed, key: this.key, counter: this.counter };
  }

  /** Uniform 32-bit unsigned integer. */
  raw(): number {
    this.counter++;
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.raw() / 4294967296;
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
