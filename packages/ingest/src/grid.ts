/**
 * The showcase grid: the target's face crop top-left, then the same crop rendered by each identity's decoder
 * (a swap stage with `source: all`), each tile under a label with its name, one H.264 video.
 * Labels use the built-in 5x7 bitmap font of @facecomb/image: no font files needed.
 */
import { join } from 'node:path';
import { createImage, drawText, readImage, resize, textWidth, GLYPH_HEIGHT, type ColourDescription, type Image } from '@facecomb/image';
import { frameName } from '@facecomb/stage';
import { paste, to8, type EncodeResult } from './encode.js';
import { parseRational } from './media/rational.js';
import { VideoWriter } from './media/writers.js';

/** Default tile side in px. */
export const GRID_TILE = 256;
const BACKGROUND = 0.12;
const INK = [1, 1, 1];

export interface GridLayout {
  cols: number;
  rows: number;
  tile: number;
  /** Height of the label strip above each tile (even, so the frame stays even for H.264's 4:2:0). */
  strip: number;
  /** Font scale of the labels. */
  scale: number;
  width: number;
  height: number;
}

/** A near-square grid of `n` cells (columns >= rows), each an even `tile` px square under a label strip. */
export function gridLayout(n: number, tile: number): GridLayout {
  if (!Number.isInteger(tile) || tile < 16 || tile % 2) throw new Error(`grid tile size must be an even integer >= 16, got ${tile}`);
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const scale = Math.max(1, Math.round(tile / 128));
  const strip = 2 * Math.ceil((GLYPH_HEIGHT * scale + 2 * scale + 2) / 2);
  return { cols, rows, tile, strip, scale, width: cols * tile, height: rows * (tile + strip) };
}

/** Top-left corner of cell i's tile (below its label strip). */
export function tileOrigin(layout: GridLayout, i: number): { x: number; y: number } {
  return { x: (i % layout.cols) * layout.tile, y: Math.floor(i / layout.cols) * (layout.tile + layout.strip) + layout.strip };
}

/** `text` cut to fit `width` px at `scale`. */
function fit(text: string, width: number, scale: number): string {
  let t = text;
  while (t.length > 1 && textWidth(t, scale) > width - 2 * scale) t = t.slice(0, -1);
  return t;
}

/** One grid frame: cell i holds images[i] (resized to the tile) under labels[i]. */
export function gridFrame(layout: GridLayout, images: Image[], labels: string[]): Image {
  const out = createImage(layout.width, layout.height, 3, BACKGROUND);
  const t = layout.tile;
  images.forEach((img, i) => {
    const { x, y } = tileOrigin(layout, i);
    paste(out, img.width === t && img.height === t ? img : resize(img, t, t), x, y);
    drawText(out, fit(labels[i], t, layout.scale), x + layout.scale, y - layout.strip + Math.floor((layout.strip - GLYPH_HEIGHT * layout.scale) / 2), INK, layout.scale);
  });
  return out;
}

export interface GridOptions {
  /** The target's crops (NNNNNN.png): the top-left tile. */
  targetDir: string;
  /** Each identity's faces folder (NNNNNN.png), in tile order after the target. */
  identities: Array<{ name: string; dir: string }>;
  frames: number[];
  fps: number | string;
  out: string;
  tile?: number;
  crf?: number;
  colour?: ColourDescription | null;
  onProgress?: (done: number, total: number) => void;
}

/** Writes the grid video (H.264 mp4): per frame, the target crop and each identity's face, labelled. */
export async function encodeGrid(opts: GridOptions): Promise<EncodeResult & { layout: GridLayout }> {
  const fps = parseRational(opts.fps);
  const count = opts.frames.length;
  const layout = gridLayout(1 + opts.identities.length, opts.tile ?? GRID_TILE);
  const labels = ['target', ...opts.identities.map((d) => d.name)];
  const dirs = [opts.targetDir, ...opts.identities.map((d) => d.dir)];
  const writer = new VideoWriter(opts.out, { format: 'mp4', fps, crf: opts.crf, colour: opts.colour });
  try {
    for (let i = 0; i < count; i++) {
      const images = await Promise.all(dirs.map((d) => readImage(join(d, frameName(opts.frames[i])), { channels: 3 })));
      await writer.write({ width: layout.width, height: layout.height, channels: 3, data: to8(gridFrame(layout, images, labels)) });
      opts.onProgress?.(i + 1, count);
    }
    const r = await writer.finish();
    return { file: opts.out, codec: r.codec, count, fps: fps.num / fps.den, duration: (count * fps.den) / fps.num, audio: false, layout };
  } catch (e) {
    await writer.abort();
    throw new Error(`cannot encode the grid ${opts.out}: ${(e as Error).message}`);
  }
}
