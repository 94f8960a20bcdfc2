import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';

/** A frame's six-digit number, as frame files are named (`000012`); prefixed names use it (`shot.000012.exr`). */
export function frameNumber(n: number): string {
  return String(n).padStart(6, '0');
}

/** The name of frame `n` in every frame folder of the artifacts (docs/ARTIFACTS.md): `000012.png`, `000012.json`. */
export function frameName(n: number, ext = 'png'): string {
  return `${frameNumber(n)}.${ext}`;
}

/**
 * Reads a JSON file. Errors start with `what` (the reader and what it expected the file to be) and name the file:
 * `<what>: <file> is missing`, `... cannot be read (<reason>)` or `... is not valid JSON (<reason>)`; `fix`, when
 * given, is appended to say what to do.
 */
export async function readJson<T = Record<string, unknown>>(file: string, what: string, fix?: string): Promise<T> {
  const tail = fix ? `; ${fix}` : '';
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new Error(e.code === 'ENOENT' ? `${what}: ${file} is missing${tail}` : `${what}: ${file} cannot be read (${e.message})${tail}`);
  });
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${what}: ${file} is not valid JSON (${(e as Error).message})${tail}`);
  }
}

/** Reads a JSON file where a missing or damaged one is no error (a cache being written, an optional file): null. */
export function readJsonOrNull<T = Record<string, unknown>>(file: string): T | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

/**
 * Replaces `file` whole or not at all: a hidden temp file beside it (named for this process and a random tag, so
 * concurrent writers never share one), then a rename, so a reader never sees half a file. On an error (a full
 * disk) the temp file is removed and the error thrown as it came.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
