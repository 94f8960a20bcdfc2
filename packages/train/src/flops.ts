/** Arithmetic cost of the comb model, for speed figures (GFLOPS) and time estimates. */

/** Multiply-accumulates of one forward pass (encoder + one decoder) per image at resolution r. */
export function forwardMacs(r: number, ch: Record<string, number>, latent: number): number {
  const c = (s: number) => ch[String(s)];
  let macs = r * r * 3 * c(r); // fromRGB
  for (let s = r; s >= 8; s /= 2) macs += s * s * 9 * c(s) * c(s) + s * s * 9 * c(s) * c(s / 2);
  macs += 16 * 9 * c(4) * c(4) + 16 * c(4) * latent; // final 3x3 + 4x4 valid
  macs += latent * 16 * c(4) + 16 * 9 * c(4) * c(4); // dense + base conv
  for (let s = 8; s <= r; s *= 2) macs += s * s * 9 * c(s / 2) * c(s) + s * s * 9 * c(s) * c(s);
  macs += r * r * c(r) * 3; // toRGB
  return macs;
}
