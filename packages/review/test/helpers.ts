import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { BIN as RUNNER, cli, type CliResult } from '../../runner/test/helpers.js';

export { RUNNER };
export { project } from '../../runner/test/helpers.js';
export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs the real runner CLI to the end (a real pipeline with training: up to 5 minutes). */
export function runner(args: string[], cwd: string): CliResult {
  return cli(args, { cwd, timeoutMs: 5 * 60_000 });
}

/** Starts `runner serve ... --port 0` and resolves with the page's address once it listens. */
export async function serve(args: string[], cwd: string): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void>; stderr: () => string }> {
  const child = spawn(process.execPath, [RUNNER, 'serve', ...args, '--port', '0'], { cwd, env: { ...process.env, FACECOMB_CACHE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((res, rej) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /(http:\/\/\S+\/)/.exec(out);
      if (m) res(m[1]);
    });
    child.on('exit', (code) => rej(new Error(`runner serve exited with ${code}: ${err}`)));
  });
  const stop = () =>
    new Promise<void>((res) => {
      if (child.exitCode !== null) return res();
      child.on('exit', () => res());
      child.kill('SIGTERM');
    });
  return { url, child, stop, stderr: () => err };
}

export interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** A GET (or other method, with a body) with the path sent exactly as given: no URL normalisation of '..' or '%2e'. */
export function get(base: string, rawPath: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Got> {
  const u = new URL(base);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path: rawPath, method: opts.method ?? 'GET', headers: opts.headers }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => {
        const body = Buffer.concat(chunks);
        res({ status: r.statusCode ?? 0, headers: r.headers, body, text: body.toString('utf8') });
      });
    });
    req.on('error', rej);
    req.end(opts.body);
  });
}

export async function getJson<T = any>(base: string, rawPath: string): Promise<T> {
  const r = await get(base, rawPath);
  if (r.status !== 200) throw new Error(`${rawPath}: ${r.status} ${r.text}`);
  return JSON.parse(r.text) as T;
}

/** Reads server-sent `pipelines` events until `until` accepts one (or the time is up). */
export function waitForEvent<T>(base: string, until: (data: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const u = new URL(base);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path: '/api/events' }, (r) => {
      let buf = '';
      r.setEncoding('utf8');
      r.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const ev = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = /^data: (.*)$/m.exec(ev);
          if (!data) continue;
          const v = JSON.parse(data[1]) as T;
          if (until(v)) {
            clearTimeout(timer);
            req.destroy();
            res(v);
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      rej(new Error(`no matching event in ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', () => undefined);
    req.end();
  });
}

/** Every file under `dir` with size and mtime, relative paths (to see that serving wrote nothing). */
export function snapshot(dir: string, skip: string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const rel = relative(dir, p);
      if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p, { throwIfNoEntry: false });
        out[rel] = st ? `${st.size}:${st.mtimeMs}` : 'link';
      }
    }
  };
  walk(dir);
  return out;
}

export const CHROMIUM = process.env.FACECOMB_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's chromium (FACECOMB_CHROMIUM: another) through puppeteer-core, no browser download, with one page
 * whose script errors are collected; screenshots and the profile go to `<dir>/screenshots` (the test's temp
 * folder, kept with FACECOMB_KEEP_TEST_DIRS=1). null when chromium is not installed (the test is skipped;
 * under CI=true it fails).
 */
export async function openChromium(t: TestContext, dir: string): Promise<{ browser: Browser; page: Page; errors: string[]; shots: string } | null> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.CI === 'true') throw new Error(`chromium not found at ${CHROMIUM}: .ci/install-chromium.sh installs it`);
    t.skip(`chromium not found at ${CHROMIUM} (apt-get install chromium)`);
    return null;
  }
  const shots = join(dir, 'screenshots');
  mkdirSync(shots, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${join(shots, 'profile')}`],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { browser, page, errors, shots };
}
