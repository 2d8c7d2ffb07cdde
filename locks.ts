/**
 * Inter-process locks on files: kernel flocks taken by `flock(1)` on a file descriptor this
 * process hands it, and then held by this process alone. Used by the image store (its index) and
 * the build cache (builds share it, prune and the GC take it alone).
 *
 * Why flock rather than an `open(…, 'wx')` lock file: a lock file needs stale-lock detection by
 * pid, which has a race when two processes break the same stale lock at once (both can end up
 * "holding" it) and misfires across pid namespaces. A kernel flock is released by the kernel when
 * its holder dies, so kill -9 never leaves a stale lock.
 *
 * Why through `flock(1)`: Node has no flock API. The lock belongs to the open file description,
 * not to the process that asked for it: we open the file, pass the descriptor to `flock 3` as its
 * fd 3, and once the helper exits with the lock taken, our descriptor (the only one left on that
 * description) holds it. Closing the descriptor, or dying, releases it. One short process per
 * request and nothing kept alive (an earlier version kept a `bash -c` helper alive for the whole
 * section: ~20 ms of every index update). Node opens files close-on-exec, so no other child
 * inherits a lock.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { TbuildError } from './errors.ts';

/** A lock could not be taken (timed out, or flock(1) is missing). */
export class LockError extends TbuildError {}

/** A held lock; `release()` is idempotent. */
export interface HeldLock {
  release(): Promise<void>;
}

export interface LockOptions {
  /** A shared lock (many holders, no exclusive one) instead of an exclusive one. */
  shared?: boolean;
  /**
   * How long to wait: seconds (0 = do not wait), or undefined to wait as long as it takes.
   * Default 120 s.
   */
  timeoutSeconds?: number | undefined;
}

/**
 * Takes a flock on `path` (created if needed). Throws {@link LockError} when it is not free
 * within the timeout; {@link tryLock} returns undefined instead.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const [held] = await acquireLocks([path], options);
  return held as HeldLock;
}

/**
 * Takes flocks on several files, in order, all of the same kind: all of them, or none and a
 * {@link LockError} when they are not free within the timeout (it applies to each).
 */
export async function acquireLocks(paths: string[], options: LockOptions = {}): Promise<HeldLock[]> {
  const timeout = 'timeoutSeconds' in options ? options.timeoutSeconds : 120;
  const held = await takeLocks(paths, options.shared === true, timeout);
  if (held === undefined)
    throw new LockError(`cannot lock ${paths.join(', ')}: timed out after ${timeout} s`);
  return held;
}

/** Takes the lock if it is free right now, else returns undefined. */
export async function tryLock(
  path: string,
  options: { shared?: boolean } = {},
): Promise<HeldLock | undefined> {
  return (await tryLocks([path], options))?.[0];
}

/** Takes all the locks if they are all free right now, else none (undefined). */
export async function tryLocks(
  paths: string[],
  options: { shared?: boolean } = {},
): Promise<HeldLock[] | undefined> {
  return takeLocks(paths, options.shared === true, 0);
}

/**
 * One lock: `flock 3`. Several: one `sh -c 'flock 3 && flock 4'` (a process spawned from node
 * costs ~3-5 ms, one forked by dash ~1 ms). `flock NUMBER` takes no command, hence the shell.
 */
async function takeLocks(
  paths: string[],
  shared: boolean,
  timeoutSeconds: number | undefined,
): Promise<HeldLock[] | undefined> {
  const handles: FileHandle[] = [];
  const closeAll = () => Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  const what = paths.join(', ');
  try {
    for (const path of paths) {
      handles.push(
        await open(path, 'a').catch((error: Error) => {
          throw new LockError(`cannot lock ${path}: ${error.message}`);
        }),
      );
    }
    const wait =
      timeoutSeconds === undefined ? [] : timeoutSeconds === 0 ? ['-n'] : ['-w', String(timeoutSeconds)];
    const args = (i: number) => [shared ? '-s' : '-x', ...wait, String(3 + i)];
    const [command, commandArgs] =
      handles.length === 1
        ? ['flock', args(0)]
        : ['sh', ['-c', handles.map((_, i) => ['flock', ...args(i)].join(' ')).join(' && ')]];
    const child = spawn(command, commandArgs, {
      stdio: ['ignore', 'ignore', 'pipe', ...handles.map((h) => h.fd)],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([error]) => {
        throw new LockError(`cannot lock ${what}: ${(error as Error).message}`, {
          hint: 'tbuild needs flock(1) from util-linux',
        });
      }),
    ])) as [number | null];
    // flock exits 1 when a lock was not free in time (-n, -w); anything else is a failure.
    if (code === 1 && stderr === '') {
      await closeAll();
      return undefined;
    }
    if (code !== 0)
      throw new LockError(`cannot lock ${what}: ${stderr.trim() || `flock exited with ${code}`}`);
  } catch (error) {
    await closeAll();
    throw error;
  }
  return handles.map((handle) => {
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        await handle.close();
      },
    };
  });
}
