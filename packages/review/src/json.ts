/** Reading the JSON files of cached stage outputs: a missing or damaged file reads as null, never throws. */
export { readJsonOrNull as readJson } from '@facecomb/stage';

export type Json = Record<string, unknown>;
