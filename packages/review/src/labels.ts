/**
 * The labels file of an `occlusion` stage: where it lives (the stage's `labels` param, relative to the pipeline
 * file; `labels/<stage>.json` beside the pipeline when the stage names none), what the labelling view needs
 * (the align stage's crops, the occlusion masks when the stage has run, the labels as saved), and how the
 * page's one write replaces it (atomically).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { PathError } from './paths.js';
import type { StageView } from './types.js';

/** The stage kind whose view labels frames. */
export const LABELLED_KIND = 'occlusion';
/** A labels file larger than this is refused (a few thousand polygons fit in far less). */
export const MAX_LABELS_BYTES = 4 * 1024 * 1024;

export interface LabelsTarget {
  /** Absolute path of the labels file. */
  file: string;
  /** The path as the pipeline names it (relative to the pipeline file's folder). */
  rel: string;
  /** Whether the stage's `labels` param names it; if not, `hint` says which line to add. */
  configured: boolean;
  hint: string | null;
}

/** Where a stage's labels are written: never a path from the client, only the pipeline's own. */
export function labelsTarget(pipelineFile: string, stage: string, params: Record<string, unknown> | undefined): LabelsTarget {
  const base = dirname(pipelineFile);
  const named = params?.labels;
  if (typeof named === 'string' && named.trim()) {
    const file = resolve(base, named);
    return { file, rel: isAbsolute(named) ? named : relative(base, file), configured: true, hint: null };
  }
  const rel = `labels/${stage}.json`;
  return {
    file: join(base, rel),
    rel,
    configured: false,
    hint: `stage '${stage}' has no 'labels' param: saving writes ${rel}; add 'labels: ${rel}' to its 'with:' in ${basename(pipelineFile)} so the stage trains on them`,
  };
}

/** The align stage an occlusion stage labels the crops of (its needs), with its crop frame names (`000012`). */
export function alignCrops(root: string, upstream: StageView[]): { stage: string; dir: string; frames: string[] } {
  const align = upstream.find((s) => s.kind === 'align');
  if (!align) throw new PathError(`the stage needs an align stage: labels are drawn on its aligned crops`, 409);
  if (!align.dir) throw new PathError(`align stage '${align.name}' has not run (${align.display}): run the pipeline up to it, then label its crops`, 409);
  let names: string[] = [];
  try {
    names = readdirSync(join(root, align.dir, 'crops'));
  } catch {
    /* no crops folder: no frame can be labelled */
  }
  const frames = names.map((n) => /^(\d{6})\.png$/.exec(n)?.[1]).filter((n): n is string => n !== undefined).sort();
  return { stage: align.name, dir: `${align.dir}/crops`, frames };
}

/** The labels file's text as saved, or null when it does not exist yet. */
export function readLabelsText(t: LabelsTarget): string | null {
  return existsSync(t.file) ? readFileSync(t.file, 'utf8') : null;
}

