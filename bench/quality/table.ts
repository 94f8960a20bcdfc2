/**
 * The table of bench/quality/quality.ts: one row per variant, each figure the mean over its seeds.
 * Run alone, it prints the table of a results file (also of a run cut short):
 *
 *   node --import tsx bench/quality/table.ts [bench/results/quality.json]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const f = (v: unknown, d = 3) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');
const get = (r: Record<string, unknown>, path: string) => path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], r);
const avg = (xs: unknown[]) => {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
};

const COLS: [string, string, number][] = [
  ['held-out SSIM', 'heldout.ssim', 3], ['held-out PSNR', 'heldout.psnr', 2], ['mouth lm err', 'heldout.mouthError', 3], ['eye lm err', 'heldout.eyeError', 3],
  ['detail mouth', 'heldout.detailMouth', 3], ['detail eyes', 'heldout.detailEyes', 3],
  ['rare SSIM', 'rare.ssim', 3], ['common SSIM', 'common.ssim', 3], ['rare mouth err', 'rare.mouthError', 3], ['common mouth err', 'common.mouthError', 3],
  ['cross retrieval', 'cross.identityRetrieval', 2], ['cross dist src', 'cross.distSource', 3], ['cross mouth err', 'cross.mouthError', 3], ['cross eye err', 'cross.eyeError', 3],
];

/** Markdown table of result rows ({variant, seed, heldout, rare, common, cross}), variants in `order`. */
export function qualityTable(rows: Record<string, unknown>[], order: string[]): string {
  const cols = [...COLS];
  // the score stage's delivered-plate figures, where it reports them
  const delivered = [...new Set(rows.flatMap((r) => Object.keys((r.cross as Record<string, unknown>) ?? {}).filter((k) => /deliver/i.test(k) && /retrieval|distSource/i.test(k))))];
  for (const k of delivered) cols.push([k, `cross.${k}`, 3]);
  const out = [`| variant | seeds | ${cols.map((c) => c[0]).join(' | ')} | SSIM seed spread |`, `| --- | --- | ${cols.map(() => '---').join(' | ')} | --- |`];
  for (const v of order) {
    const rs = rows.filter((r) => r.variant === v);
    if (!rs.length) continue;
    const ss = rs.map((r) => get(r, 'heldout.ssim')).filter((x): x is number => typeof x === 'number');
    const seeds = rs.map((r) => r.seed).sort().join(',');
    out.push(`| ${v} | ${seeds} | ${cols.map(([, p, d]) => f(avg(rs.map((r) => get(r, p))), d)).join(' | ')} | ${ss.length > 1 ? f(Math.max(...ss) - Math.min(...ss)) : '-'} |`);
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2] ?? fileURLToPath(new URL('../results/quality.json', import.meta.url));
  const res = JSON.parse(readFileSync(file, 'utf8')) as { rows: Record<string, unknown>[]; variants: Record<string, unknown> };
  console.log(qualityTable(res.rows, Object.keys(res.variants)));
}
