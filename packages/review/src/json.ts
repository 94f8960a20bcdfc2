/** Reading the JSON files of cached stage outputs: a missing or damaged file reads as null, never throws. */
import { readFileSync } from 'node:fs';

export type Json = Record<string, unknown>;

export function readJson(file: string): Json | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Json;
  } catch {
    return null;
  }
}
