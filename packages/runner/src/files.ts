import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { readJsonOrNull } from '@facecomb/stage';

const GLOB_CHARS = /[*?[{]|#|%0?\d*d/;

/** Whether a path holds glob characters that are not escaped with a backslash (`take \\#2.txt` is no glob). */
export function isGlob(p: string): boolean {
  return GLOB_CHARS.test(p.replace(/\\./g, ''));
}

/** A path with its backslash escapes removed (`shot\\[1\\].txt` -> `shot[1].txt`). */
export function unescapeGlob(p: string): string {
  return p.replace(/\\(.)/g, '$1');
}

/** A folder holds a name that is not UTF-8: refused, naming the folder (paths are text in manifests and keys). */
export class FileNameError extends Error {
  constructor(
    readonly dir: string,
    name: Buffer,
  ) {
    super(`folder ${dir} holds a file name that is not valid UTF-8 ('${name.toString('utf8')}', bytes ${name.toString('hex')}): rename it to UTF-8 (e.g. convmv -f latin1 -t utf8 -r --notest ${dir})`);
  }
}

/** Converts a glob (`*`, `?`, `**`, `[...]`, `{a,b}`) over `/`-separated paths to a RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let inBrace = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    // `\\x`: the character itself (an input named `take #2.txt` or `shot[1].txt`)
    if (c === '\\' && i + 1 < glob.length) {
      re += glob[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      continue;
    }
    // image-sequence patterns: shot.%04d.png, shot.####.png
    const printf = /^%(0?)(\d*)d/.exec(glob.slice(i));
    if (printf) {
      re += printf[2] ? (printf[1] ? `\\d{${Number(printf[2])}}` : ` *\\d{1,${Number(printf[2])}}`) : '\\d+';
      i += printf[0].length - 1;
      continue;
    }
    if (c === '#') {
      let n = 1;
      while (glob[i + n] === '#') n++;
      re += n === 1 ? '\\d+' : `\\d{${n}}`;
      i += n - 1;
      continue;
    }
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atSegStart = i === 0 || glob[i - 1] === '/';
        if (glob[i + 2] === '/' && atSegStart) {
          re += '(?:[^/]*/)*';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        let cls = glob.slice(i + 1, end);
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`;
        re += `[${cls.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else if (c === '{') {
      inBrace++;
      re += '(?:';
    } else if (c === '}' && inBrace > 0) {
      inBrace--;
      re += ')';
    } else if (c === ',' && inBrace > 0) re += '|';
    else re += c.replace(/[.+^$()|\\\]}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Collects the files under `dir`, following symbolic links, in name order; a link back to a folder already
 * being walked (a loop such as `dir/up -> ..`) is skipped, so a tree with a cycle is walked once instead of
 * forever. With `once` each real folder is walked once at all: a fan-out of links to the same folders (which
 * grows as 2^depth) lists every real file once (inputs: the key needs each content once, not every path).
 */
function walk(dir: string, out: string[], includeDot: boolean, open: Set<string> = new Set(), once = false): void {
  let entries;
  let real;
  try {
    real = realpathSync(dir);
    entries = readdirSync(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch {
    return;
  }
  if (open.has(real)) return;
  open.add(real);
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  for (const e of entries) {
    const name = e.name.toString('utf8');
    // read as bytes: a non-UTF-8 name read as text is altered and then cannot be opened (ENOENT)
    if (!Buffer.from(name, 'utf8').equals(e.name)) throw new FileNameError(dir, e.name);
    if (!includeDot && name.startsWith('.')) continue;
    const p = join(dir, name);
    if (e.isDirectory()) walk(p, out, includeDot, open, once);
    else if (e.isFile()) out.push(p);
    else if (e.isSymbolicLink()) {
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p, out, includeDot, open, once);
        else if (st.isFile()) out.push(p);
      } catch {
        /* dangling link */
      }
    }
  }
  if (!once) open.delete(real);
}

/**
 * The files an input param names: a file, every file under a folder, or the files matching a glob, relative
 * to `base` unless absolute. Null when nothing exists there.
 */
export function expandInput(base: string, p: string): string[] | null {
  const literal = isAbsolute(p) ? p : resolve(base, p);
  // a path that exists as written is that file, glob characters or not (`shot[1].txt`)
  const asGlob = isGlob(p) && !existsSync(literal);
  const abs = asGlob || existsSync(literal) ? literal : unescapeGlob(literal);
  if (!asGlob) {
    if (!existsSync(abs)) return null;
    const st = statSync(abs);
    if (st.isDirectory()) {
      const out: string[] = [];
      walk(abs, out, true, new Set(), true);
      return out.sort();
    }
    return [abs];
  }
  const norm = abs.split(sep).join('/');
  const segs = norm.split('/');
  const firstGlob = segs.findIndex((s) => isGlob(s));
  const root = unescapeGlob(segs.slice(0, firstGlob).join('/')) || '/';
  const rest = segs.slice(firstGlob).join('/');
  const re = globToRegExp(rest);
  const files: string[] = [];
  walk(root, files, /(^|\/)\./.test(rest), new Set(), true);
  const matched = files.filter((f) => re.test(relative(root, f).split(sep).join('/'))).sort();
  return matched.length ? matched : null;
}

export function sha256File(file: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}

interface IndexEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}

/** Content hashes of files, remembered by size + mtime + inode so unchanged big files are not read again. */
export class HashIndex {
  private entries: Record<string, IndexEntry> = {};
  private byFile = new Map<string, string>();
  private dirty = false;
  /** Bytes actually read (for reports). */
  bytesHashed = 0;

  constructor(private readonly file: string | null) {
    if (file && existsSync(file)) this.entries = readJsonOrNull(file) ?? {};
  }

  async hash(path: string, st?: Stats): Promise<string> {
    const s = st ?? statSync(path);
    const e = this.entries[path];
    if (e && e.size === s.size && e.mtimeMs === s.mtimeMs && e.ino === s.ino) return e.sha256;
    // the same real file under another path (links): read once
    const id = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
    const known = this.byFile.get(id);
    if (known) {
      this.entries[path] = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, sha256: known };
      this.dirty = true;
      return known;
    }
    const sha256 = await sha256File(path);
    this.byFile.set(id, sha256);
    this.bytesHashed += s.size;
    this.entries[path] = { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino, sha256 };
    this.dirty = true;
    return sha256;
  }

  async save(write: (file: string, text: string) => void): Promise<void> {
    if (!this.file || !this.dirty) return;
    write(this.file, JSON.stringify(this.entries));
    this.dirty = false;
  }
}

/** Every file under `dir` (relative `/` paths) with size and sha256. */
export async function hashTree(dir: string): Promise<{ path: string; size: number; sha256: string }[]> {
  const files: string[] = [];
  walk(dir, files, true);
  files.sort();
  const out = [];
  for (const f of files) out.push({ path: relative(dir, f).split(sep).join('/'), size: statSync(f).size, sha256: await sha256File(f) });
  return out;
}

/** Total bytes of the files under `dir`. */
export function treeSize(dir: string): number {
  const files: string[] = [];
  walk(dir, files, true);
  let n = 0;
  for (const f of files) {
    try {
      n += statSync(f).size;
    } catch {
      /* vanished */
    }
  }
  return n;
}

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${u[i]}`;
}
