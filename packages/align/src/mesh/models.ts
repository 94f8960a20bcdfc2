import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type GraphModel = any;

/**
 * The model folder of @vladmandic/human (MIT), whose MediaPipe face-mesh and hand models ship inside the npm
 * package. Its `exports` map hides package.json, so the folder is found from the package's main file.
 */
export function humanModelDir(): string {
  const dir = join(dirname(require.resolve('@vladmandic/human')), '..', 'models');
  if (!existsSync(join(dir, 'facemesh.json'))) throw new Error(`face-mesh models not found in ${dir}: reinstall @vladmandic/human (npm install)`);
  return dir;
}

interface ModelJson {
  modelTopology: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
}

/** Loads one of human's graph models (`name`.json and its weight files) from disk into `tf` (the full tfjs, with the converter). */
export async function loadHumanModel(tf: { loadGraphModel(h: unknown): Promise<GraphModel> }, name: string): Promise<GraphModel> {
  const dir = humanModelDir();
  const file = join(dir, `${name}.json`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  const buffers = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const handler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      format: json.format,
      generatedBy: json.generatedBy,
      convertedBy: json.convertedBy,
      signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
      weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
      weightData,
    }),
  };
  try {
    return await tf.loadGraphModel(handler);
  } catch (e) {
    throw new Error(`${file}: could not load the model (${(e as Error).message}); reinstall @vladmandic/human (npm install)`);
  }
}
