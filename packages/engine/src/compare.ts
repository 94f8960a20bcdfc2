/** max |a - b| / max |b|: error relative to the reference tensor's largest magnitude (Infinity for a non-finite value or a length mismatch). */
export function relError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) return Infinity;
  let diff = 0, mag = 0;
  for (let i = 0; i < ref.length; i++) {
    if (!Number.isFinite(got[i])) return Infinity;
    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
    mag = Math.max(mag, Math.abs(ref[i]));
  }
  return diff / Math.max(mag, 1e-30);
}
