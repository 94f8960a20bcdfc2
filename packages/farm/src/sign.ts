import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalJson } from '@facecomb/runner';
import type { FarmJobData } from './queues.js';
import { FarmError } from './url.js';

/** Name of the key file made in the shared cache root when neither FACECOMB_FARM_SECRET nor FACECOMB_FARM_KEY_FILE is set. */
export const KEY_FILE = 'farm.key';

/**
 * The farm's shared secret: FACECOMB_FARM_SECRET, else the contents of FACECOMB_FARM_KEY_FILE, else
 * `<cache root>/farm.key` (made once with 32 random bytes, readable by its owner only). Anyone who can write the
 * shared cache can already replace its results, so a key there adds no new trust; Redis alone no longer suffices.
 */
export function farmSecret(cacheRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.FACECOMB_FARM_SECRET) return env.FACECOMB_FARM_SECRET;
  const file = env.FACECOMB_FARM_KEY_FILE || join(cacheRoot, KEY_FILE);
  if (!env.FACECOMB_FARM_KEY_FILE) makeKeyFile(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new FarmError(`farm key file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; set FACECOMB_FARM_KEY_FILE to a readable file holding the farm secret, or FACECOMB_FARM_SECRET`);
  }
  if (text.length < 16) throw new FarmError(`farm key file ${file}: holds ${text.length} characters; the farm secret needs at least 16 (e.g. openssl rand -hex 32 > ${file})`);
  return text;
}

/** Creates the key file if missing; two machines creating it at once agree on the first one (exclusive link). */
function makeKeyFile(file: string): void {
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** What is signed: the job data without its signature, as canonical JSON (sorted keys). */
const signedText = (d: Omit<FarmJobData, 'sig'>) => canonicalJson({ job: d.job, backend: d.backend, submitter: d.submitter });

export function signJob(d: Omit<FarmJobData, 'sig'>, secret: string): FarmJobData {
  return { ...d, sig: createHmac('sha256', secret).update(signedText(d)).digest('hex') };
}

/** Why a job's signature does not hold (null when it does). */
export function signatureProblem(d: Partial<FarmJobData> | undefined, secret: string): string | null {
  if (!d || typeof d !== 'object' || !d.job) return 'not a facecomb job';
  if (typeof d.sig !== 'string' || !d.sig) return 'unsigned';
  const want = createHmac('sha256', secret).update(signedText(d as FarmJobData)).digest();
  const got = Buffer.from(d.sig, 'hex');
  return got.length === want.length && timingSafeEqual(got, want) ? null : 'signature does not match (another farm secret, or altered in Redis)';
}
