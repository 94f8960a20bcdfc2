/**
 * engine-info [--backend B] [--json]: the engine's flags (value, default, environment variable) and, with
 * --backend, the engine that initialises, the tfjs kernels this package added and the ops with a kernel per
 * backend. For checking what a run will use (e.g. FACECOMB_CONV_ACT_FUSION=grad engine-info --backend webgpu).
 */
import type { FlagRow } from './flags.js';
import type { BackendRequest, EngineInfo } from './engine.js';

interface Info { flags: FlagRow[]; engine?: EngineInfo; ops?: { name: string; backends: string[] }[] }

function table(info: Info): string {
  const lines = ['flag               value        default      environment'];
  for (const f of info.flags) {
    lines.push(`${f.name.padEnd(18)} ${JSON.stringify(f.value).padEnd(12)} ${JSON.stringify(f.default).padEnd(12)} ${f.env ?? '(set in code)'}`);
  }
  if (info.engine) {
    lines.push('', `engine ${info.engine.name}: ${info.engine.why}`, `kernels added: ${info.engine.addedKernels.join(', ') || 'none'}`);
  }
  if (info.ops) {
    lines.push('', 'op                          kernels (others run the reference)');
    for (const o of info.ops) lines.push(`${o.name.padEnd(27)} ${o.backends.join(', ') || 'none'}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<void> {
  const i = argv.indexOf('--backend');
  if (i >= 0 && !argv[i + 1]) throw new Error('--backend needs a value: auto, tensorflow, webgpu, wasm or cpu');
  const unknown = argv.filter((a, j) => a.startsWith('-') && !['--backend', '--json'].includes(a) && argv[j - 1] !== '--backend');
  if (unknown.length) throw new Error(`unknown option ${unknown[0]}: usage: engine-info [--backend B] [--json]`);
  // imported here so that a malformed FACECOMB_* variable (checked when flags.ts loads) is reported like any error
  const { listFlags, initEngine, registeredOps } = await import('./index.js'); // every op defined
  const info: Info = { flags: listFlags() };
  if (i >= 0) {
    info.engine = await initEngine({ backend: argv[i + 1] as BackendRequest, log: () => {} });
    info.ops = registeredOps();
  }
  process.stdout.write(argv.includes('--json') ? `${JSON.stringify(info, null, 2)}\n` : table(info));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`engine-info: ${(e as Error).message}\n`);
  process.exitCode = 2;
});
