import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { invertAffine, readSamples, type Affine, type ColourDescription } from '@facecomb/image';
import { frameName, frameNumber } from '@facecomb/stage';
import { StillWriter } from './media/writers.js';

export interface PatchOptions {
  /** The align stage's output (faces/NNNNNN.json with the plate -> crop matrix). */
  alignDir: string;
  /** The swap stage's output (faces/NNNNNN.png, masks/NNNNNN.png). */
  swapDir: string;
  frames: number[];
  /** Output folder. */
  out: string;
  name: string;
  /** Plate size, recorded for the compositor. */
  plate: { width: number; height: number };
  colour?: ColourDescription | null;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The compositing patch, per frame with a swapped face: `<name>.NNNNNN.png`, the swapped face at crop size with
 * its matte as (straight, unpremultiplied) alpha, and `<name>.NNNNNN.json` with the 2x3 matrix `cropToPlate`
 * that places it on the plate: plate pixel (x, y) = cropToPlate · (u, v, 1) for crop pixel (u, v), pixel
 * centres at integer coordinates. Returns the frames written (frames without a face have no patch).
 */
export async function writePatches(opts: PatchOptions): Promise<number[]> {
  const written: number[] = [];
  const writers = new Map<string, StillWriter>();
  await mkdir(opts.out, { recursive: true });
  try {
    for (let i = 0; i < opts.frames.length; i++) {
      const n = opts.frames[i];
      const face = join(opts.swapDir, 'faces', frameName(n));
      opts.onProgress?.(i + 1, opts.frames.length);
      if (!existsSync(face)) continue;
      const alignFile = join(opts.alignDir, 'faces', frameName(n, 'json'));
      const rec = JSON.parse(await readFile(alignFile, 'utf8').catch(() => {
        throw new Error(`patch: swap has a face for frame ${n} but ${alignFile} cannot be read`);
      })) as { face?: { matrix?: number[] } | null };
      const m = rec.face?.matrix;
      if (!Array.isArray(m) || m.length !== 6) throw new Error(`patch: ${alignFile} has no face.matrix for frame ${n}, though swap has a face`);
      let maskFile = join(opts.swapDir, 'masks', frameName(n));
      if (!existsSync(maskFile)) maskFile = join(opts.alignDir, 'masks', frameName(n));
      if (!existsSync(maskFile)) throw new Error(`patch: no matte for frame ${n}: neither ${join(opts.swapDir, 'masks', frameName(n))} nor ${maskFile} exists`);
      const rgb = await readSamples(face, { channels: 3 });
      const mask = await readSamples(maskFile, { channels: 1 });
      if (mask.width !== rgb.width || mask.height !== rgb.height) throw new Error(`patch: ${maskFile} is ${mask.width}x${mask.height} but the face ${face} is ${rgb.width}x${rgb.height}`);
      const sixteen = rgb.data instanceof Uint16Array || mask.data instanceof Uint16Array;
      const px = rgb.width * rgb.height;
      const data = sixteen ? new Uint16Array(px * 4) : new Uint8Array(px * 4);
      const up = (v: number, is16: boolean) => (sixteen && !is16 ? v * 257 : v);
      const rgb16 = rgb.data instanceof Uint16Array, m16 = mask.data instanceof Uint16Array;
      for (let p = 0; p < px; p++) {
        for (let k = 0; k < 3; k++) data[4 * p + k] = up(rgb.data[3 * p + k], rgb16);
        data[4 * p + 3] = up(mask.data[p], m16);
      }
      const fmt = sixteen ? 'png16' : 'png';
      if (!writers.has(fmt)) writers.set(fmt, new StillWriter(fmt, opts.colour ?? null));
      const stem = `${opts.name}.${frameNumber(n)}`;
      await writers.get(fmt)!.write(join(opts.out, `${stem}.png`), { width: rgb.width, height: rgb.height, channels: 4, data });
      const plateToCrop = m as Affine;
      const doc = {
        frame: n, image: `${stem}.png`, size: [rgb.width, rgb.height], alpha: 'straight',
        cropToPlate: invertAffine(plateToCrop), plateToCrop, plate: [opts.plate.width, opts.plate.height],
      };
      await writeFile(join(opts.out, `${stem}.json`), `${JSON.stringify(doc, null, 2)}\n`);
      written.push(n);
    }
  } finally {
    for (const w of writers.values()) w.close();
  }
  return written;
}
