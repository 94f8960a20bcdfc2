import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

/** Where a binary was found: the FFMPEG_PATH/FFPROBE_PATH variable, the PATH, or an npm package. */
export interface FoundBinary {
  path: string;
  from: 'env' | 'path' | 'npm';
}

const require = createRequire(import.meta.url);
const cache = new Map<string, FoundBinary>();

function isExecutable(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Looks a command up in the PATH (with PATHEXT on Windows). */
export function whichSync(name: string, pathEnv = process.env.PATH ?? ''): string | null {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const p = join(dir, name + ext);
      if (isExecutable(p)) return p;
    }
  }
  return null;
}

function find(tool: 'ffmpeg' | 'ffprobe', envVar: string, pkg: string): FoundBinary {
  const fromEnv = process.env[envVar];
  const key = `${tool}\0${fromEnv ?? ''}\0${process.env.PATH ?? ''}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let found: FoundBinary | null = null;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`${envVar} is set to '${fromEnv}', which is not an executable file: fix or unset ${envVar}`);
    found = { path: fromEnv, from: 'env' };
  }
  if (!found) {
    const p = whichSync(tool);
    if (p) found = { path: p, from: 'path' };
  }
  if (!found) {
    let why = '';
    try {
      const mod = require(pkg) as { path?: string };
      if (mod.path && isExecutable(mod.path)) found = { path: mod.path, from: 'npm' };
      else why = `${pkg} gave no executable`;
    } catch (e) {
      why = `${pkg} is not usable here: ${String((e as Error)?.message ?? e)}`;
    }
    if (!found) {
      throw new Error(`${tool} not found: set ${envVar}, put ${tool} on the PATH, or install ${pkg} (npm ci installs it on linux/macOS/windows x64 and arm64) [${why}]`);
    }
  }
  cache.set(key, found);
  return found;
}

/** The ffmpeg binary: FFMPEG_PATH, then the PATH, then @ffmpeg-installer/ffmpeg. */
export function findFfmpeg(): FoundBinary {
  return find('ffmpeg', 'FFMPEG_PATH', '@ffmpeg-installer/ffmpeg');
}

/** The ffprobe binary: FFPROBE_PATH, then the PATH, then @ffprobe-installer/ffprobe. */
export function findFfprobe(): FoundBinary {
  return find('ffprobe', 'FFPROBE_PATH', '@ffprobe-installer/ffprobe');
}
