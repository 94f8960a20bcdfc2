import { availableParallelism } from 'node:os';
import { UsageError, checkBackend, dagCommand, gcCommand, lsCommand, publishCommand, runCommand, showCommand, statusCommand } from './commands.js';
import { PipelineError, formatDiagnostic } from './diagnostics.js';
import { endQuietlyOnClosedPipe } from './pipe.js';
import { loadFarm } from './farm.js';
import { COMMAND_OPTIONS, FlagError, parseFlags } from './flags.js';
import { didYouMean } from './hint.js';
import { RegistryError } from './registry.js';
import { serveCommand } from './serve.js';

const HELP = `runner: runs a facecomb pipeline (one YAML file per shot) with a content-addressed cache

usage:
  runner run FILE [--jobs N] [--force STAGE]... [--dry-run] [--backend B] [--workers N] [--gpus N] [--resource NAME=N]...
  runner status FILE [--json]      each stage: cached (with its key) or stale (with the reason)
  runner dag FILE                  the stage graph as a mermaid diagram
  runner show FILE STAGE [--json]  a stage's manifest and artifact paths
  runner ls [--json]               the cache entries
  runner gc [--keep-pipelines FILE...] [--all] [--dry-run]
                                   remove cache entries no pipeline refers to
  runner publish FILE [STAGE]      copy the cached outputs of the stages with 'publish:' (or STAGE) into
                                   their publish folders again (a new vNNN only when the files changed)
  runner serve [FILE...] [--port 8080] [--host 127.0.0.1] [--allow-host NAME]...
                                   the review page (read-only but for occlusion labels; default: every pipeline the cache has seen)
  runner run FILE --farm redis://HOST:PORT    run the stages as jobs on a farm's workers
  runner worker --farm redis://HOST:PORT [--slots cpu=N,gpu=N] [--backend B]
                                   take stage jobs from the farm (shared --cache folder)
  runner farm status --farm redis://HOST:PORT [--json]
                                   workers, and queued/running/failed jobs per pipeline

options (every command):
  --cache DIR   the cache folder (default: .facecomb/ in the pipeline's project folder; env FACECOMB_CACHE)
  -h, --help    this help

run:
  -j, --jobs N        stages run at once (default: the number of CPU cores)
  --force STAGE       rerun STAGE even if cached (repeatable; 'all' for every stage)
  -n, --dry-run       print what would run and why, run nothing
  --backend B         tensor engine for stages: auto|tensorflow|webgpu|wasm|cpu (FACECOMB_BACKEND)
  --workers N         data-parallel training workers on CPU engines (FACECOMB_WORKERS; default: the core
                      count); not part of any cache key: results equal one worker's up to float rounding
  --gpus N            GPU slots (default 1: one gpu stage at a time)
  --resource NAME=N   slots of another resource named in stages' resources

exit codes: 0 ok, 1 a stage failed, 2 bad pipeline or usage, 130 interrupted (also a run whose reader closed the pipe)
`;

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number, got '${v}'`);
  return n;
}

/** Aborted when stdout's reader goes away: a run stops its stages quietly (other commands exit at once). */
const pipeClosed = new AbortController();

/** `gc --keep-pipelines a.yaml b.yaml`: the files after the flag, taken out of `rest`. */
function takeKeepPipelines(rest: string[]): string[] {
  const keep: string[] = [];
  const i = rest.indexOf('--keep-pipelines');
  if (i >= 0) {
    let j = i + 1;
    while (j < rest.length && !rest[j].startsWith('-')) keep.push(rest[j++]);
    if (!keep.length) throw new UsageError('--keep-pipelines needs at least one pipeline file');
    rest.splice(i, j - i);
  }
  return keep;
}

/** `run`'s resource slots: `--gpus N` and each `--resource NAME=N`. */
function runSlots(gpusFlag: string | undefined, resource: string[] | undefined): Record<string, number> {
  const slots: Record<string, number> = {};
  const gpus = int('--gpus', gpusFlag);
  if (gpus !== undefined) slots.gpu = gpus;
  for (const r of resource ?? []) {
    const m = /^([A-Za-z_][\w-]*)=(\d+)$/.exec(r);
    if (!m) throw new UsageError(`--resource ${r}: expected NAME=N, e.g. --resource cpu=4`);
    slots[m[1]] = Number(m[2]);
  }
  return slots;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd ? 0 : 2;
  }
  if (!(cmd in COMMAND_OPTIONS)) throw new UsageError(`unknown command '${cmd}'${didYouMean(cmd, Object.keys(COMMAND_OPTIONS))}; commands: ${Object.keys(COMMAND_OPTIONS).join(', ')} (runner --help)`);
  let keep = cmd === 'gc' ? takeKeepPipelines(rest) : [];
  const { values, positionals } = parseFlags(cmd, rest);
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const common = { cache: values.cache };
  const file = () => {
    if (!positionals[0]) throw new UsageError(`runner ${cmd}: missing the pipeline FILE`);
    return positionals[0];
  };
  switch (cmd) {
    case 'run': {
      const slots = runSlots(values.gpus, values.resource);
      const workers = int('--workers', values.workers);
      if (workers === 0) throw new UsageError(`--workers must be 1 or more`);
      const env = workers === undefined ? undefined : { ...process.env, FACECOMB_WORKERS: String(workers) };
      return runCommand(file(), { ...common, jobs: values.jobs === undefined ? availableParallelism() : int('--jobs', values.jobs), force: values.force, dryRun: values['dry-run'], backend: values.backend, slots, env, farm: values.farm, stop: pipeClosed.signal });
    }
    case 'worker': {
      if (!values.farm) throw new UsageError('runner worker: --farm redis://HOST:PORT is required');
      checkBackend(values.backend);
      const farm = await loadFarm();
      const lockMs = process.env.FACECOMB_FARM_LOCK_MS ? Number(process.env.FACECOMB_FARM_LOCK_MS) : undefined;
      return farm.runWorker({ url: values.farm, slots: farm.parseSlots(values.slots), backend: values.backend, cache: values.cache, lockMs });
    }
    case 'farm': {
      if (positionals[0] !== 'status') throw new UsageError(`runner farm: usage: runner farm status --farm redis://HOST:PORT [--json]`);
      if (!values.farm) throw new UsageError('runner farm status: --farm redis://HOST:PORT is required');
      await (await loadFarm()).farmStatus(values.farm, { json: values.json });
      return 0;
    }
    case 'status':
      await statusCommand(file(), { ...common, json: values.json });
      return 0;
    case 'dag':
      await dagCommand(file(), common);
      return 0;
    case 'show':
      if (!positionals[1]) throw new UsageError('runner show: usage: runner show FILE STAGE');
      return showCommand(file(), positionals[1], { ...common, json: values.json });
    case 'publish':
      return publishCommand(file(), positionals[1], common);
    case 'ls':
      lsCommand({ ...common, json: values.json });
      return 0;
    case 'gc':
      keep = [...keep, ...positionals];
      await gcCommand({ ...common, keep, all: values.all, dryRun: values['dry-run'] });
      return 0;
    case 'serve':
      await serveCommand(positionals, { ...common, port: int('--port', values.port) ?? 8080, host: values.host ?? '127.0.0.1', allowHosts: values['allow-host'] });
      return 0;
    default:
      throw new UsageError(`unknown command '${cmd}'; commands: run, status, dag, show, ls, gc, serve, worker, farm (runner --help)`);
  }
}

const command = process.argv[2];
endQuietlyOnClosedPipe(() => {
  if (command === 'run') pipeClosed.abort();
  else process.exit(process.exitCode ?? 0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof PipelineError) {
      for (const d of e.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.stderr.write(`${e.diagnostics.length} error(s) in the pipeline; nothing was run\n`);
    } else if ((e as { farm?: boolean; diskFull?: boolean }).farm || (e as { diskFull?: boolean }).diskFull) {
      process.stderr.write(`runner: ${(e as Error).message}\n`);
      process.exitCode = 1;
      return;
    } else if (e instanceof UsageError || e instanceof FlagError || e instanceof RegistryError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`runner: ${(e as Error).message}\n`);
    } else {
      process.stderr.write(`runner: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
      return;
    }
    process.exitCode = 2;
  },
);
