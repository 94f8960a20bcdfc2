import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from './hint.js';

/** Every option of the CLI. */
export const OPTIONS = {
  cache: { type: 'string' },
  json: { type: 'boolean' },
  jobs: { type: 'string', short: 'j' },
  force: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean', short: 'n' },
  backend: { type: 'string' },
  workers: { type: 'string' },
  gpus: { type: 'string' },
  resource: { type: 'string', multiple: true },
  all: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
  'allow-host': { type: 'string', multiple: true },
  farm: { type: 'string' },
  slots: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Option = keyof typeof OPTIONS;

/** The options each command takes besides --cache and --help (an option given to another command is refused, not ignored). */
export const COMMAND_OPTIONS: Record<string, Option[]> = {
  run: ['jobs', 'force', 'dry-run', 'backend', 'workers', 'gpus', 'resource', 'farm'],
  status: ['json'],
  dag: [],
  show: ['json'],
  ls: ['json'],
  gc: ['all', 'dry-run'],
  serve: ['port', 'host', 'allow-host'],
  publish: [],
  worker: ['farm', 'slots', 'backend'],
  farm: ['farm', 'json'],
};

export class FlagError extends Error {}

/** The option an argument names (`--jobs=2` -> jobs, `-j` -> jobs), or undefined for a positional. */
function optionOf(arg: string): { name: string; known: Option | undefined } | undefined {
  if (arg.startsWith('--')) {
    const name = arg.slice(2).split('=')[0];
    return { name: `--${name}`, known: name in OPTIONS ? (name as Option) : undefined };
  }
  if (/^-[A-Za-z]/.test(arg)) {
    const short = arg[1];
    const known = (Object.keys(OPTIONS) as Option[]).find((k) => (OPTIONS[k] as { short?: string }).short === short);
    return { name: `-${short}`, known };
  }
  return undefined;
}

/**
 * Parses a command's arguments; an unknown option, or one of another command, is a FlagError that says which
 * options the command takes and the nearest one (`--job` -> did you mean '--jobs'?).
 */
export function parseFlags(cmd: string, args: string[]) {
  const allowed: Option[] = ['cache', 'help', ...(COMMAND_OPTIONS[cmd] ?? [])];
  const names = allowed.map((o) => `--${o}`);
  const takes = `options of ${cmd}: ${names.join(', ')} (runner --help)`;
  for (const arg of args) {
    if (arg === '--') break;
    const o = optionOf(arg);
    if (!o) continue;
    if (!o.known) throw new FlagError(`${cmd}: unknown option '${o.name}'${didYouMean(o.name, names)}; ${takes}`);
    if (!allowed.includes(o.known)) {
      const users = Object.keys(COMMAND_OPTIONS).filter((c) => COMMAND_OPTIONS[c].includes(o.known!));
      throw new FlagError(`${cmd}: --${o.known} is an option of ${users.join(', ')}, not of ${cmd}; ${takes}`);
    }
  }
  try {
    return parseArgs({ args, allowPositionals: true, options: OPTIONS });
  } catch (e) {
    // a missing value: say which and how
    if ((e as { code?: string }).code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new FlagError(`${cmd}: ${(e as Error).message.split('. ')[0]}`);
    throw e;
  }
}
