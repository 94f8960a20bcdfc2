/**
 * The one way our WGSL names its buffers: a kernel lists them (names, in binding order) and never writes an
 * `@binding` by hand. Two runners take such a list:
 *   - tfjsProgram: a program tfjs-backend-webgpu runs (runWebGPUProgram); tfjs declares `result` (the output)
 *     and each input as an array of its dtype, plus its `uniforms` struct, from the names.
 *   - dispatch.ts's recordDispatch: our own dispatches (buffers written in place, `enable` directives tfjs cannot
 *     emit); `bindingsSource` declares the listed buffers and the uniform the same way.
 */

/** A storage buffer of our own dispatches: read unless `write`, elements f32 unless `type`. */
export interface Binding {
  name: string;
  write?: boolean;
  /** WGSL element type (default f32), e.g. 'i32' or 'atomic<i32>'. */
  type?: string;
}

/** WGSL declarations of `bindings` at 0, 1, ... and, with `uniform` (a struct type name), `var<uniform> p` after them. */
export function bindingsSource(bindings: Binding[], uniform?: string): string {
  const lines = bindings.map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name}: array<${b.type ?? 'f32'}>;`);
  if (uniform) lines.push(`@group(0) @binding(${bindings.length}) var<uniform> p: ${uniform};`);
  return lines.join('\n');
}

/**
 * A program object as tfjs-backend-webgpu expects it (its WebGPUProgram interface): inputs bound by
 * `variableNames`, `result` the output. `code` is generated only when tfjs's pipeline cache misses.
 */
export function tfjsProgram(key: string, variableNames: string[], outputShape: number[], dispatch: [number, number, number],
  workgroupSize: [number, number, number], code: string | (() => string), flat = false): object {
  return {
    variableNames,
    outputShape,
    shaderKey: `facecomb_${key}`,
    dispatchLayout: flat ? { x: outputShape.map((_, i) => i) } : { x: [0], y: [1], z: [2] },
    dispatch,
    workgroupSize,
    size: false,
    getUserCode: typeof code === 'function' ? code : () => code,
  };
}

/** A tfjs program over `groups` workgroups of 256 threads, the workgroups folded into two dimensions past 65535. */
export function tfjsProgram256(key: string, variableNames: string[], outputShape: number[], groups: number, code: string | (() => string)): object {
  const dx = Math.min(groups, 65535);
  return tfjsProgram(key, variableNames, outputShape, [dx, Math.ceil(groups / dx), 1], [256, 1, 1], code);
}

/**
 * A flat elementwise program over `shape`: `body` runs for each i < size (256 threads a workgroup); `prelude`
 * holds WGSL functions the body calls.
 */
export function elementwiseProgram(key: string, names: string[], shape: number[], body: string, prelude = ''): object {
  const n = shape.reduce((a, b) => a * b, 1);
  const groups = Math.ceil(n / 256), dx = Math.min(groups, 65535);
  const code = `${prelude}
fn main() {
  let i = (i32(workgroupId.y) * ${dx} + i32(workgroupId.x)) * 256 + i32(localIndex);
  if (i < ${n}) { ${body} }
}`;
  return tfjsProgram256(`${key}_${n}`, names, shape, groups, code);
}
