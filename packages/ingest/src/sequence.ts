import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

/** File extensions read as still images (an image sequence) rather than as a video. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp', '.exr', '.dpx', '.bmp', '.tga']);
/** Image formats read through sharp (libvips); the others go through ffmpeg. */
export const SHARP_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.tif', '.tiff', '.webp']);

export interface SequenceFrame {
  number: number;
  file: string;
}

/** True when `src` names an image sequence: a printf pattern (%04d), hashes (####), a glob, or one image file. */
export function isSequenceSource(src: string): boolean {
  const name = basename(src);
  if (/%0?\d*d/.test(name) || /#+/.test(name) || /[*?[]/.test(name)) return true;
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A file-name glob (*, ?, [abc], [!abc]) as an anchored regular expression. */
export function globToRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i];
    if (ch === '*') re += '(.*)';
    else if (ch === '?') re += '(.)';
    else if (ch === '[') {
      const end = glob.indexOf(']', i);
      if (end < 0) re += '\\[';
      else {
        re += glob.slice(i, end + 1).replace('[!', '[^');
        i = end;
      }
    } else re += escapeRegex(ch);
  }
  return new RegExp(`^${re}$`);
}

/**
 * Lists the files of an image sequence, sorted by frame number. `src` is a printf pattern (shot.%04d.png),
 * a hash pattern (shot.####.png), a glob in the last path component (shot.*.png; the frame number is the
 * last run of digits in the name) or a single image file (frame number from its name, else 1).
 */
export async function listSequence(src: string): Promise<SequenceFrame[]> {
  const dir = dirname(src);
  const name = basename(src);
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`cannot list the folder of image sequence ${src}: ${e.code === 'ENOENT' ? 'folder not found' : e.message}`);
  });
  const frames: SequenceFrame[] = [];
  const printf = /%0?(\d*)d/.exec(name);
  const hashes = /#+/.exec(name);
  if (printf || hashes) {
    const m = (printf ?? hashes)!;
    const width = printf ? Number(m[1] || 0) : m[0].length;
    const re = new RegExp(`^${escapeRegex(name.slice(0, m.index))}(\\d+)${escapeRegex(name.slice(m.index + m[0].length))}$`);
    for (const e of entries) {
      const hit = re.exec(e);
      if (!hit) continue;
      const digits = hit[1];
      // %04d writes at least 4 digits, and more only without leading zeros
      if (width && (digits.length < width || (digits.length > width && digits[0] === '0'))) continue;
      if (!width && digits.length > 1 && digits[0] === '0') continue;
      frames.push({ number: Number(digits), file: join(dir, e) });
    }
  } else if (/[*?[]/.test(name)) {
    const re = globToRegex(name);
    for (const e of entries) {
      if (!re.test(e)) continue;
      const digits = /(\d+)(?!.*\d)/.exec(e);
      if (!digits) throw new Error(`image sequence ${src}: file ${e} has no frame number in its name`);
      frames.push({ number: Number(digits[1]), file: join(dir, e) });
    }
  } else {
    const s = await stat(src).catch(() => null);
    if (!s || !s.isFile()) throw new Error(`input file not found: ${src}`);
    const digits = /(\d+)(?!.*\d)/.exec(name.slice(0, name.length - extname(name).length));
    frames.push({ number: digits ? Number(digits[1]) : 1, file: src });
  }
  if (frames.length === 0) throw new Error(`image sequence ${src}: no file in ${dir} matches ${name}`);
  frames.sort((a, b) => a.number - b.number);
  for (let i = 1; i < frames.length; i++) {
    if (frames[i].number === frames[i - 1].number) {
      throw new Error(`image sequence ${src}: ${basename(frames[i - 1].file)} and ${basename(frames[i].file)} have the same frame number ${frames[i].number}`);
    }
  }
  return frames;
}
