import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';

/** Widths a thumbnail may have (a request is rounded up to one of these, so the cache stays small). */
export const THUMB_WIDTHS = [64, 128, 256, 512];

/**
 * JPEG thumbnails made once with sharp and kept in their own folder: `<cache root>/review-thumbs/` (nothing
 * else of the page writes), or a temp folder when the cache is read-only. Named by the source's real path,
 * size and mtime, so a changed file gets a new thumbnail.
 */
export class Thumbnails {
  private dir: string;
  private inflight = new Map<string, Promise<Buffer>>();

  constructor(root: string) {
    this.dir = join(root, 'review-thumbs');
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch {
      this.dir = join(tmpdir(), 'facecomb-review-thumbs');
      mkdirSync(this.dir, { recursive: true });
    }
  }

  static width(asked: number): number {
    return THUMB_WIDTHS.find((w) => w >= asked) ?? THUMB_WIDTHS[THUMB_WIDTHS.length - 1];
  }

  get(file: string, width: number): Promise<Buffer> {
    const st = statSync(file);
    const name = createHash('sha1').update(`${file}\0${st.size}\0${st.mtimeMs}\0${width}`).digest('hex');
    const out = join(this.dir, `${name}.jpg`);
    const pending = this.inflight.get(out);
    if (pending) return pending;
    const p = (async () => {
      try {
        return readFileSync(out);
      } catch {
        const buf = await sharp(file).resize({ width, withoutEnlargement: true }).flatten({ background: '#000' }).jpeg({ quality: 82 }).toBuffer();
        const tmp = `${out}.${process.pid}.tmp`;
        try {
          writeFileSync(tmp, buf);
          renameSync(tmp, out);
        } catch {
          /* cannot keep it: serve it anyway */
        }
        return buf;
      }
    })().finally(() => this.inflight.delete(out));
    this.inflight.set(out, p);
    return p;
  }
}
