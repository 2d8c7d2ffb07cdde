import { spawn } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../processes.ts';
import { ExecError } from './errors.ts';

/**
 * A network namespace with only `lo` (up), kept alive by a bind mount on a file so that many
 * containers can join it by path instead of each creating its own.
 *
 * Why: creating and tearing down a fresh network namespace is ~20 ms of every `runc run` on a
 * typical kernel (a third of a small RUN step). BuildKit creates one per step for
 * `--network=none`; sharing one per build keeps the same guarantee (no interface but loopback)
 * at the cost of steps of the same build seeing each other's loopback while they run side by side.
 */
export interface LoopbackNetns {
  /** The namespace file to put in the runtime spec: `{ type: 'network', path }`. */
  path: string;
  /** Unmounts the namespace file and removes it; the namespace goes with its last user. */
  release(): Promise<void>;
}

/**
 * Makes a loopback-only network namespace bound to `<dir>/netns-<pid>-<n>`, first removing ones
 * left in `dir` by processes that no longer run (a killed build cannot release its own).
 * Uses util-linux `unshare --net=FILE` and iproute2's `ip` (or busybox's applet).
 */
export async function createLoopbackNetns(dir: string): Promise<LoopbackNetns> {
  await mkdir(dir, { recursive: true });
  await removeStale(dir);
  const path = join(dir, `netns-${process.pid}-${++counter}`);
  await writeFile(path, '');
  // iproute2's `ip`, else busybox's applet (tried in that order rather than probed first).
  const bringUp = (ip: string[]) =>
    runQuiet('unshare', [`--net=${path}`, ...ip, 'link', 'set', 'lo', 'up']).catch((error: unknown) => ({
      code: -1,
      stderr: String(error),
    }));
  let made = await bringUp(['ip']);
  if (made.code !== 0) {
    await unbind(path);
    await writeFile(path, '');
    made = await bringUp(['busybox', 'ip']);
  }
  if (made.code !== 0) {
    await unbind(path);
    throw new ExecError(`could not create a network namespace: ${made.stderr.trim()}`, {
      hint: 'tbuild needs util-linux unshare and iproute2 (apt-get install util-linux iproute2)',
    });
  }
  let released = false;
  return {
    path,
    async release() {
      if (released) return;
      released = true;
      await unbind(path);
    },
  };
}

let counter = 0;

async function removeStale(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = /^netns-(\d+)-\d+$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isProcessAlive(Number(pid))) continue;
    await unbind(join(dir, name));
  }
}

async function unbind(path: string): Promise<void> {
  await runQuiet('umount', [path]).catch(() => undefined);
  await rm(path, { force: true });
}

function runQuiet(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}
