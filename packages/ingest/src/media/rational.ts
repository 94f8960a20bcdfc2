/** A frame rate or time base as an exact fraction. */
export interface Rational {
  num: number;
  den: number;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return Math.abs(a);
}

/** num/den reduced. */
export function rational(num: number, den: number): Rational {
  const g = gcd(num, den) || 1;
  return { num: num / g, den: den / g };
}

/** Parses "30000/1001", "25" or a number (a non-integer number is taken to 1/1000: give rates as text). */
export function parseRational(v: number | string): Rational {
  if (typeof v === 'number') {
    if (!(v > 0) || !Number.isFinite(v)) throw new Error(`frame rate must be positive, got ${v}`);
    return Number.isInteger(v) ? { num: v, den: 1 } : rational(Math.round(v * 1000), 1000);
  }
  const m = /^\s*(\d+)\s*(?:\/\s*(\d+))?\s*$/.exec(v);
  if (!m || !Number(m[1]) || (m[2] !== undefined && !Number(m[2]))) throw new Error(`frame rate must be a positive number or a fraction like "30000/1001", got ${JSON.stringify(v)}`);
  return rational(Number(m[1]), m[2] === undefined ? 1 : Number(m[2]));
}

export function rationalText(r: Rational): string {
  return r.den === 1 ? String(r.num) : `${r.num}/${r.den}`;
}
