/**
 * `/api/labels`: GET what the labelling view of an `occlusion` stage needs; POST the labels to save (the page's
 * only write: request checks in write-guard.ts, the file fixed by the pipeline in labels.ts, the JSON checked
 * by @facecomb/occlusion's parseLabels, the one validator the stage reads the file with too).
 */
import type { IncomingMessage } from 'node:http';
import { LABELLED_KIND, MAX_LABELS_BYTES, alignCrops, formatLabels, labelsTarget, readLabelsText, writeAtomic, type LabelsTarget } from './labels.js';
import { PathError } from './paths.js';
import type { StageView } from './types.js';
import { checkWriteRequest, readBody } from './write-guard.js';

type ParseLabels = (text: string, file: string, frameNames?: string[]) => unknown;

/** parseLabels, loaded when first needed (the review page serves caches without the occlusion package too). */
async function parser(): Promise<ParseLabels> {
  const pkg = '@facecomb/occlusion';
  try {
    const m = (await import(pkg)) as { parseLabels?: ParseLabels };
    if (typeof m.parseLabels === 'function') return m.parseLabels;
  } catch {
    /* not installed: answered below */
  }
  throw new PathError(`labels cannot be checked: ${pkg} (parseLabels) is not installed; nothing was written`, 503);
}

/** The stage, its pipeline file and planned params, and the stages it needs. */
export interface LabelledStage {
  stage: StageView;
  pipelineFile: string;
  params: Record<string, unknown> | undefined;
  upstream: StageView[];
}

function target(s: LabelledStage): LabelsTarget {
  if (s.stage.kind !== LABELLED_KIND) throw new PathError(`stage '${s.stage.name}' is a ${s.stage.kind} stage: only ${LABELLED_KIND} stages take labels`, 400);
  return labelsTarget(s.pipelineFile, s.stage.name, s.params);
}

/** What the labelling view shows: the crops to label, the masks the stage made, the labels saved so far. */
export async function labelsView(root: string, s: LabelledStage) {
  const t = target(s);
  const crops = alignCrops(root, s.upstream);
  const text = readLabelsText(t);
  let error: string | null = null;
  if (text !== null) {
    try {
      (await parser())(text, t.rel, crops.frames);
    } catch (e) {
      error = (e as Error).message;
    }
  }
  return { file: t.rel, configured: t.configured, hint: t.hint, crops, masks: s.stage.dir ? `${s.stage.dir}/masks` : null, text, error };
}

/** Query names of a save; anything else (a `path`, a `file`) is refused: the pipeline alone names the file. */
const SAVE_QUERY = new Set(['pipeline', 'stage']);

/** POST: checks the request, validates the body with parseLabels, replaces the labels file atomically. */
export async function saveLabels(req: IncomingMessage, url: URL, root: string, token: string, s: LabelledStage) {
  checkWriteRequest(req, token);
  const extra = [...url.searchParams.keys()].filter((k) => !SAVE_QUERY.has(k));
  if (extra.length) throw new PathError(`write refused: '${extra.join("', '")}' not accepted; the labels file is the one the pipeline names (the stage's 'labels' param)`, 400);
  const t = target(s);
  const crops = alignCrops(root, s.upstream);
  const text = await readBody(req, MAX_LABELS_BYTES);
  const parse = await parser();
  try {
    parse(text, t.rel, crops.frames);
  } catch (e) {
    throw new PathError((e as Error).message, 400);
  }
  const doc = JSON.parse(text) as { version: number; frames: Record<string, unknown[]> };
  writeAtomic(t.file, formatLabels(doc));
  const polygons = Object.values(doc.frames).reduce((n, ps) => n + ps.length, 0);
  return { file: t.rel, configured: t.configured, hint: t.hint, frames: Object.keys(doc.frames).length, polygons };
}
