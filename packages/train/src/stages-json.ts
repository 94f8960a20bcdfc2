/**
 * stages.json's train schema is generated from the params table (params.ts): `npm run stages-json` in
 * packages/train writes it; test/config-schema.test.ts fails while the file is stale.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { trainParamsSchema } from './params.js';

const WIDTH = 140;

/** JSON with short objects and arrays on one line (`{ "type": "integer", "minimum": 1 }`), longer ones broken. */
export function formatJson(v: unknown, indent = ''): string {
  const inline = (x: unknown): string => {
    if (Array.isArray(x)) return `[${x.map(inline).join(', ')}]`;
    if (x && typeof x === 'object') {
      const parts = Object.entries(x).map(([k, y]) => `${JSON.stringify(k)}: ${inline(y)}`);
      return parts.length ? `{ ${parts.join(', ')} }` : '{}';
    }
    return JSON.stringify(x);
  };
  const one = inline(v);
  if (indent.length + one.length <= WIDTH || !v || typeof v !== 'object') return one;
  const inner = `${indent}  `;
  if (Array.isArray(v)) return `[\n${v.map((x) => inner + formatJson(x, inner)).join(',\n')}\n${indent}]`;
  const parts = Object.entries(v).map(([k, y]) => `${inner}${JSON.stringify(k)}: ${formatJson(y, inner)}`);
  return `{\n${parts.join(',\n')}\n${indent}}`;
}

/** The stages.json text with the train schema generated from the params table; the rest is kept. */
export function renderStagesJson(current: string): string {
  const kinds = JSON.parse(current) as Record<string, Record<string, unknown>>;
  kinds.train.schema = trainParamsSchema();
  return `${formatJson(kinds)}\n`;
}

export const STAGES_JSON = fileURLToPath(new URL('../stages.json', import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeFile(STAGES_JSON, renderStagesJson(await readFile(STAGES_JSON, 'utf8')));
  process.stdout.write(`${STAGES_JSON}: train schema written from src/params.ts\n`);
}
