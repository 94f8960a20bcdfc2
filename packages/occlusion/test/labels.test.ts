import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseLabels, readLabels, formatLabels, rasteriseLabels, type Labels } from '../src/labels.ts';

const square = (x0: number, y0: number, x1: number, y1: number): [number, number][] => [[x0, y0], [x1, y0], [x1, y1], [x0, y1]];
const good: Labels = {
  version: 1,
  frames: {
    '000003': [
      { mode: 'include', points: square(0.25, 0.25, 0.75, 0.75) },
      { mode: 'exclude', points: square(0.5, 0.5, 1, 1) },
    ],
    '000001': [],
  },
};

test('a labels file written by formatLabels reads back the same and names frames in order', () => {
  const text = formatLabels(good);
  assert.deepEqual(parseLabels(text, 'l.json', ['000001.png', '000002.png', '000003.png']), good);
  assert.ok(text.indexOf('"000001"') < text.indexOf('"000003"'));
});

test('bad JSON names the file, line and column', () => {
  assert.throws(() => parseLabels('{\n  "version": 1,\n  "frames": {,}\n}', 'labels/occl.json'), /labels\/occl\.json: not valid JSON at line 3, column 14/);
  assert.throws(() => parseLabels('{"version": 1', 'l.json'), /l\.json: not valid JSON at line 1, column 14/);
});

test('each kind of bad label is refused with the file, the label and what is wrong', () => {
  const doc = (frames: unknown, extra: Record<string, unknown> = {}): string => JSON.stringify({ version: 1, frames, ...extra });
  const poly = (p: unknown): string => doc({ '000002': [{ mode: 'include', points: square(0, 0, 1, 1) }, p] });
  const cases: [string, RegExp][] = [
    [doc({ '000009': [] }), /l\.json: frame 000009 is not a frame of this shot/],
    [doc({ frame9: [] }), /l\.json: frame 'frame9' is not a frame name/],
    [poly({ mode: 'include', points: [[0, 0], [1, 1]] }), /l\.json: frame 000002 polygon 1: has 2 point\(s\); a polygon needs at least 3/],
    [poly({ mode: 'include', points: [[0, 0], [1.5, 1], [0, 1]] }), /l\.json: frame 000002 polygon 1: point 1 \[1\.5, 1\] is outside the crop/],
    [poly({ mode: 'include', points: [[0, 0], [1, 'a'], [0, 1]] }), /frame 000002 polygon 1: point 1 must be \[x, y\]/],
    [poly({ mode: 'erase', points: square(0, 0, 1, 1) }), /frame 000002 polygon 1: unknown mode "erase"/],
    [poly({ mode: 'include', points: square(0, 0, 1, 1), colour: 'red' }), /frame 000002 polygon 1: unknown key 'colour'/],
    [doc({}, { author: 'x' }), /l\.json: unknown key 'author'/],
    [JSON.stringify({ version: 2, frames: {} }), /l\.json: "version" must be 1/],
    [JSON.stringify([]), /l\.json: must be a JSON object/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseLabels(text, 'l.json', ['000001', '000002']), re, text);
});

test('without the shot frames any six-digit frame is accepted', () => {
  assert.deepEqual(Object.keys(parseLabels(JSON.stringify({ version: 1, frames: { '123456': [] } }), 'l.json').frames), ['123456']);
});

test('readLabels reads the file and names it in errors', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'labels-'));
  try {
    const file = join(dir, 'occl.json');
    await writeFile(file, formatLabels(good));
    assert.deepEqual(await readLabels(file), good);
    await writeFile(file, '{"version": 1, "frames": {"000001": [{"mode": "include", "points": []}]}}');
    await assert.rejects(readLabels(file), (e: Error) => e.message.startsWith(`${file}: frame 000001 polygon 0: has 0 point(s)`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rasterising: includes are united, excludes cut out, pixel centres decide', () => {
  const m = rasteriseLabels(good.frames['000003'], 8);
  const rows = Array.from({ length: 8 }, (_, y) => Array.from(m.subarray(y * 8, y * 8 + 8), (v) => (v ? '#' : '.')).join(''));
  assert.deepEqual(rows, ['........', '........', '..####..', '..####..', '..##....', '..##....', '........', '........']);
  assert.ok(m.every((v) => v === 0 || v === 255));
  // Two overlapping includes: union, not even-odd between polygons.
  const u = rasteriseLabels([{ mode: 'include', points: square(0, 0, 0.75, 1) }, { mode: 'include', points: square(0.25, 0, 1, 1) }], 4);
  assert.ok(u.every((v) => v === 255));
  // A triangle covers about half of the crop.
  const t = rasteriseLabels([{ mode: 'include', points: [[0, 0], [1, 0], [0, 1]] }], 100);
  const share = t.reduce((s, v) => s + (v ? 1 : 0), 0) / t.length;
  assert.ok(Math.abs(share - 0.5) < 0.01, `triangle share ${share}`);
  // Only excludes: nothing.
  assert.ok(rasteriseLabels([{ mode: 'exclude', points: square(0, 0, 1, 1) }], 4).every((v) => v === 0));
});
