/**
 * Fault-test harness: the tbuild CLI as a child process that can be killed at a chosen moment, a
 * seeded random source (so a failing kill can be replayed with SEED=…), and a census of what a
 * dead process may have left behind on a root (mounts, runc containers and bundles, scratch and
 * temp files, processes).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tbuildArgv } from '../tbuild-entry.ts';

export const repo = resolve(import.meta.dirname, '..', '..');

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seeded kill loop both kill -9 suites run: per kill exactly two draws (which kind, how long
 * into its measured window), so a replay makes the same choices whatever happened before; a
 * failure names the kill, the seed, the kind, the delay and the phase `round` saw; `tally` counts
 * the phases per kind.
 */
export async function runSeededKills<K extends { name: string; weight: number }>(
  log: (line: string) => void,
  runSeed: number,
  count: number,
  kinds: readonly K[],
  windows: ReadonlyMap<string, number>,
  tally: Map<string, Map<string, number>>,
  round: (kind: K, k: number, delay: number, seen: { phase: string }) => Promise<unknown>,
): Promise<void> {
  const random = seededRandom(runSeed);
  log(`seed ${runSeed} (TBUILD_FAULTS_SEED=${runSeed} replays it), ${count} kills`);
  for (let k = 0; k < count; k++) {
    const kind = pickWeighted(kinds, random);
    const delay = Math.floor(random() * (windows.get(kind.name) ?? 1000));
    const seen = { phase: '?' };
    try {
      await round(kind, k, delay, seen);
    } catch (error) {
      throw new Error(
        `kill ${k + 1} of ${count} (TBUILD_FAULTS_SEED=${runSeed}): ${kind.name} killed after ${delay} ms, ` +
          `in phase "${seen.phase}": ${(error as Error).message}`,
        { cause: error },
      );
    }
    const byPhase = tally.get(kind.name) ?? new Map<string, number>();
    byPhase.set(seen.phase, (byPhase.get(seen.phase) ?? 0) + 1);
    tally.set(kind.name, byPhase);
  }
}

/** One of `items`, each as likely as its weight (one draw of `random`). */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], random: () => number): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let at = random() * total;
  for (const item of items) {
    at -= item.weight;
    if (at < 0) return item;
  }
  return items.at(-1) as T;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface Running {
  child: ChildProcess;
  done: Promise<Finished>;
  /** stderr so far. */
  stderr(): string;
}

/**
 * Bundles the CLI as `npm ci` does (scripts/bundle.mjs, the shipped dist/tbuild.cjs) into a fresh
 * directory under node_modules/.cache (the bundle finds @napi-rs/xattr there) and returns its path:
 * a command then starts in ~0.1 s instead of ~0.5 s through tsx, which is what makes hundreds of
 * kills affordable. The caller removes the directory (`dirname(path)`).
 */
export function makeBundle(): string {
  // bin/tbuild.js runs dist/tbuild.cjs only while it is newer than every source: in an edited
  // checkout it would fall back to tsx. This bundle is always made from the sources as they are.
  mkdirSync(join(repo, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(join(repo, 'node_modules', '.cache', 'tbuild-faults-'));
  const bundle = join(dir, 'tbuild.cjs');
  const made = spawnSync(process.execPath, [join(repo, 'scripts/bundle.mjs'), '--outfile', bundle], {
    encoding: 'utf8',
  });
  if (made.status !== 0) throw new Error(`bundling failed: ${made.stderr}`);
  return bundle;
}

/** node's argv for `tbuild ...args`: bin/tbuild.js (test/tbuild-entry.ts), or a bundle of `useBundle`. */
let argv: (args: string[]) => string[] = tbuildArgv;

/** Makes `startCli` (and `cli`, `cliOk`) run `bundle` (from `makeBundle`) instead of bin/tbuild.js. */
export function useBundle(bundle: string): void {
  argv = (args) => [bundle, ...args];
}

/** Starts `tbuild --root ROOT ...args` (through bin/tbuild.js, or the bundle of `useBundle`). */
export function startCli(root: string, args: string[], env: Record<string, string> = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, argv(['--root', root, ...args]), {
    cwd: repo,
    env: { ...process.env, TBUILD_ROOT: '', DOCKER_CONFIG: join(root, 'no-docker-config'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const done = new Promise<Finished>((res, rej) => {
    child.once('error', rej);
    child.once('close', (code, signal) => res({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return { child, done, stderr: () => stderr };
}

/** Runs the CLI to the end. */
export function cli(root: string, args: string[], env: Record<string, string> = {}): Promise<Finished> {
  return startCli(root, args, env).done;
}

/** Runs the CLI and fails with its output unless it exits 0. */
export async function cliOk(
  root: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Finished> {
  const r = await cli(root, args, env);
  if (r.code !== 0) throw new Error(`tbuild ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r;
}

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/** Pids of processes (not this one) whose command line names `needle`. */
export function processesNaming(needle: string): { pid: number; cmdline: string }[] {
  const out: { pid: number; cmdline: string }[] = [];
  for (const name of list('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (cmdline.includes(needle)) out.push({ pid: Number(name), cmdline });
  }
  return out;
}

export interface LeftoverOptions {
  /** A directory where `*.tmp-*` files count as litter (beside `save -o` outputs). */
  outputsDir?: string;
  /** A command line fragment no process may still run (the test's RUN command). */
  marker?: string;
  /** Pids of killed tbuild processes: a /dev/shm entry naming one (tbuild-secrets-<pid>…) is litter. */
  deadPids?: number[];
}

/**
 * What is left on `root` that nothing should hold once no tbuild process runs on it: mounts at or
 * under it, runc containers and bundles, scratch entries, store temp files, files beside
 * `outputs` named `*.tmp-*`, and processes naming the root or running `marker` (a command a RUN of
 * the test runs, such as `sleep 4242`), and /dev/shm entries naming a killed pid.
 */
export function leftovers(root: string, options: LeftoverOptions = {}): string[] {
  const found: string[] = [];
  const abs = resolve(root);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point !== undefined && (point === abs || point.startsWith(`${abs}/`))) found.push(`mount ${point}`);
  }
  for (const id of list(join(abs, 'runc', 'runc'))) found.push(`runc container ${id}`);
  for (const id of list(join(abs, 'runc', 'containers'))) found.push(`runc kept container ${id}`);
  for (const id of list(join(abs, 'runc', 'bundles'))) found.push(`runc bundle ${id}`);
  for (const name of list(join(abs, 'tmp'))) found.push(`scratch tmp/${name}`);
  for (const name of list(join(abs, 'image', 'tmp'))) found.push(`store temp image/tmp/${name}`);
  if (options.outputsDir)
    for (const name of list(options.outputsDir)) if (/\.tmp-/.test(name)) found.push(`output temp ${name}`);
  for (const p of processesNaming(abs)) found.push(`process ${p.pid}: ${p.cmdline}`);
  if (options.marker)
    for (const p of processesNaming(options.marker)) found.push(`process ${p.pid}: ${p.cmdline}`);
  for (const pid of options.deadPids ?? []) {
    const named = new RegExp(`(^|[^0-9])${pid}([^0-9]|$)`);
    for (const name of list('/dev/shm'))
      if (name.includes('tbuild') && named.test(name)) found.push(`/dev/shm/${name}`);
  }
  return found;
}

/** Polls `leftovers` until it is empty or `ms` have passed (processes take a moment to exit). */
export async function settledLeftovers(
  root: string,
  options: LeftoverOptions = {},
  ms = 3000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = leftovers(root, options);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
