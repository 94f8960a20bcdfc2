import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Manifest, OutputFile } from './cache.js';
import { canonicalJson } from './plan.js';
import { readJsonOrNull } from '@facecomb/stage';

/** publish.json in each version folder: where the files came from. */
export interface PublishManifest {
  version: string;
  stage: string;
  kind: string;
  /** The cache key the files were published from. */
  key: string;
  params: Record<string, unknown>;
  pipeline: { name: string; file: string };
  /** When this version was published. */
  date: string;
  /** When the stage ran. */
  ran: string;
  outputs: OutputFile[];
}

export interface PublishResult {
  /** Absolute folder of the version (new or the unchanged latest). */
  folder: string;
  version: string;
  created: boolean;
}

const VERSION = /^v(\d{3,})$/;

/** The version folders of a publish folder, oldest first. */
export function publishedVersions(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((n) => VERSION.test(n))
    .sort((a, b) => Number(VERSION.exec(a)![1]) - Number(VERSION.exec(b)![1]));
}

function readPublished(folder: string): PublishManifest | null {
  return readJsonOrNull<PublishManifest>(join(folder, 'publish.json'));
}

/** The files, by path and content: equal text means the same published content. */
const contentOf = (outputs: OutputFile[]) => canonicalJson(outputs.map((o) => [o.path, o.sha256]).sort());

/** Removes the temp folders of publishers that were killed (their pid is gone) before renaming a version. */
function removeDeadTemps(folder: string): void {
  for (const n of readdirSync(folder)) {
    const m = /^\.publish-(\d+)-/.exec(n);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(folder, n), { recursive: true, force: true });
    }
  }
}

/**
 * Publishes a cache entry's artifacts into `folder`/vNNN: hard links where the filesystem allows (no copy of
 * multi-GB plates; the cache keeps its own link, so `gc` removing the entry leaves the version whole), else
 * copies. A new version only when the files differ from the latest version's. The version is assembled in a
 * hidden temp folder and renamed into place, so a crash never leaves a half-written vNNN.
 */
export function publishEntry(m: Manifest, folder: string, pipelineFile: string, now = new Date()): PublishResult {
  const versions = publishedVersions(folder);
  const latest = versions.at(-1);
  if (latest) {
    const prev = readPublished(join(folder, latest));
    if (prev && contentOf(prev.outputs) === contentOf(m.outputs)) return { folder: join(folder, latest), version: latest, created: false };
  }
  mkdirSync(folder, { recursive: true });
  removeDeadTemps(folder);
  const tmp = join(folder, `.publish-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    for (const f of m.outputs) {
      const dest = join(tmp, f.path);
      mkdirSync(dirname(dest), { recursive: true });
      try {
        linkSync(join(m.artifacts, f.path), dest);
      } catch {
        copyFileSync(join(m.artifacts, f.path), dest);
      }
    }
    let n = latest ? Number(VERSION.exec(latest)![1]) + 1 : 1;
    for (;;) {
      const version = `v${String(n).padStart(3, '0')}`;
      const record: PublishManifest = {
        version, stage: m.stage, kind: m.kind, key: m.key, params: m.params, pipeline: { name: m.pipeline.name, file: pipelineFile },
        date: now.toISOString(), ran: m.end, outputs: m.outputs,
      };
      writeFileSync(join(tmp, 'publish.json'), `${JSON.stringify(record, null, 2)}\n`);
      try {
        renameSync(tmp, join(folder, version));
        return { folder: join(folder, version), version, created: true };
      } catch (e) {
        // another publisher took this number first: take the next
        if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
        n++;
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
