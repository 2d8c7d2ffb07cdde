/**
 * How the tests start tbuild: through bin/tbuild.js, the entry point users run (`npx tbuild`).
 * It runs the bundle (dist/tbuild.cjs, made by `npm ci` and `npm run bundle`) while that is newer
 * than every source, as on a fresh clone and in CI, and the TypeScript sources through tsx after
 * an edit, so a test never runs stale code and CI tests what ships.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');

/** The shipped entry point. */
export const tbuildEntry = join(repo, 'bin', 'tbuild.js');

/**
 * node's argv for `tbuild ...args`: spawn(process.execPath, tbuildArgv(args)). The `--` ends
 * node's own options: Node 20 looks for `--env-file` anywhere on its command line, even after
 * the script (fixed in Node 22), and would take `tbuild run --env-file F` as its own.
 */
export function tbuildArgv(args: string[]): string[] {
  return ['--', tbuildEntry, ...args];
}

/** What a finished `tbuild` printed, and its exit code (-1 when a signal ended it). */
export interface TbuildResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `tbuild ...args` to its end and collects its output. TBUILD_ROOT is cleared (tests name
 * their root with --root); `env` adds to the environment, `stdin` is written and closed (empty
 * when absent), `cwd` defaults to the repository. With `stdoutFd` (an open file) standard output
 * goes there, byte for byte (an archive), and `stdout` comes back empty.
 */
export function runTbuild(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string | Buffer; cwd?: string; stdoutFd?: number } = {},
): Promise<TbuildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, tbuildArgv(args), {
      cwd: options.cwd ?? repo,
      env: { ...process.env, TBUILD_ROOT: '', ...options.env },
      stdio: ['pipe', options.stdoutFd ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // A command that never reads its stdin may exit first: the write's EPIPE is no failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(options.stdin ?? '');
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
  });
}
