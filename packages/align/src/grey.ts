import sharp from 'sharp';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { quantise, type Image } from '@facecomb/image';

/** Writes a one-channel float image as an 8-bit greyscale PNG (one channel in the file, not RGB). */
export async function writeGreyPng(file: string, img: Image): Promise<void> {
  if (img.channels !== 1) throw new Error(`writeGreyPng: expected 1 channel, got ${img.channels}`);
  await mkdir(dirname(file), { recursive: true });
  await sharp(quantise(img, 8), { raw: { width: img.width, height: img.height, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 3 })
    .toFile(file);
}
