/**
 * `/api/labels`: GET what the labelling view of an `occlusion` stage needs; POST the labels to save (the page's
 * only write: request checks in write-guard.ts, the file fixed by the pipeline in labels.ts, the JSON checked
 * by @facecomb/occlusion's parseLabels, the one validator the stage reads the file with too).
 */
import type { IncomingMessage } from 'node:http';
import { formatLabels, parseLabels, type Labels } from '@facecomb/occlusion';
import { LABELLED_KIND, MAX_LABELS_BYTES, alignCrops, labelsTarget, readLabelsText, type LabelsTarget } from './labels.js';
import { writeFileAtomic } from '@facecomb/stage';
import { PathError } from './paths.js';
import type { StageView } from './types.js';
import { checkWriteRequest, readBody } from './write-guard.js';

/** The stage, its pipeline file and planned params, and the stages it needs. */
export interface LabelledStage {
  stage: StageView;
  pipelineFile: string;
  params: Record<string, unknown> | undefined;
  upstream: StageView[];
}

function target(s: LabelledStage): LabelsTarget {
  if (s.stage.kind !== LABELLED_KIND) throw new PathError(`stage '${s.stage.name}' is a ${s.stage.kind} stage: only ${LABELLED_KIND} stages take labels`, 400);
  const t = labelsTarget(s.pipelineFile, s.stage.name, s.params);
  // a slip in the pipeline (labels: shot.yaml) must not let the page overwrite another file
  if (!/\.json$/i.test(t.file)) throw new PathError(`stage '${s.stage.name}': 'labels: ${t.rel}' must name a .json file; the page writes only labels files`, 400);
  return t;
}

/** What the labelling view shows: the crops to label, the masks the stage made, the labels saved so far. */
export function labelsView(root: string, s: LabelledStage) {
  const t = target(s);
  const crops = alignCrops(root, s.upstream);
  const text = readLabelsText(t);
  let error: string | null = null;
  if (text !== null) {
    try {
      parseLabels(text, t.rel, crops.frames);
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
  let labels: Labels;
  try {
    labels = parseLabels(text, t.rel, crops.frames);
  } catch (e) {
    throw new PathError((e as Error).message, 400);
  }
  writeFileAtomic(t.file, formatLabels(labels));
  const polygons = Object.values(labels.frames).reduce((n, ps) => n + ps.length, 0);
  return { file: t.rel, configured: t.configured, hint: t.hint, frames: Object.keys(labels.frames).length, polygons };
}
