/**
 * Fault-test harness: the tbuild CLI as a child process that can be killed at a chosen moment, a
 * seeded random source (so a failing kill can be replayed with SEED=…), and a census of what a
 * dead process may have left behind on a root (mounts, runc containers and bundles, scratch and
 * temp files, processes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
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

/** Starts `tbuild --root ROOT ...args` (through bin/tbuild.js: test/tbuild-entry.ts). */
export function startCli(root: string, args: string[], env: Record<string, string> = {}): Running {
  const started = Date.now();
  const child = spawn(process.execPath, tbuildArgv(['--root', root, ...args]), {
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

/**
 * What is left on `root` that nothing should hold once no tbuild process runs on it: mounts at or
 * under it, runc containers and bundles, scratch entries, store temp files, files beside
 * `outputs` named `*.tmp-*`, and processes naming the root or running `marker` (a command a RUN of
 * the test runs, such as `sleep 4242`).
 */
export function leftovers(root: string, options: { outputsDir?: string; marker?: string } = {}): string[] {
  const found: string[] = [];
  const abs = resolve(root);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const point = line.split(' ')[4];
    if (point !== undefined && (point === abs || point.startsWith(`${abs}/`))) found.push(`mount ${point}`);
  }
  for (const id of list(join(abs, 'runc', 'runc'))) found.push(`runc container ${id}`);
  for (const id of list(join(abs, 'runc', 'bundles'))) found.push(`runc bundle ${id}`);
  for (const name of list(join(abs, 'tmp'))) found.push(`scratch tmp/${name}`);
  for (const name of list(join(abs, 'image', 'tmp'))) found.push(`store temp image/tmp/${name}`);
  if (options.outputsDir)
    for (const name of list(options.outputsDir)) if (/\.tmp-/.test(name)) found.push(`output temp ${name}`);
  for (const p of processesNaming(abs)) found.push(`process ${p.pid}: ${p.cmdline}`);
  if (options.marker)
    for (const p of processesNaming(options.marker)) found.push(`process ${p.pid}: ${p.cmdline}`);
  return found;
}

/** Polls `leftovers` until it is empty or `ms` have passed (processes take a moment to exit). */
export async function settledLeftovers(
  root: string,
  options: { outputsDir?: string; marker?: string } = {},
  ms = 3000,
): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = leftovers(root, options);
    if (found.length === 0 || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
}
