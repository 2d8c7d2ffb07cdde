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
 * lock and no shell (an earlier version kept a `bash -c` helper alive for the whole section:
 * ~20 ms of every index update). Node opens files close-on-exec, so no other child inherits it.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
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
  const timeout = 'timeoutSeconds' in options ? options.timeoutSeconds : 120;
  const held = await takeLock(path, options.shared === true, timeout);
  if (held === undefined) throw new LockError(`cannot lock ${path}: timed out after ${timeout} s`);
  return held;
}

/** Takes the lock if it is free right now, else returns undefined. */
export async function tryLock(
  path: string,
  options: { shared?: boolean } = {},
): Promise<HeldLock | undefined> {
  return takeLock(path, options.shared === true, 0);
}

async function takeLock(
  path: string,
  shared: boolean,
  timeoutSeconds: number | undefined,
): Promise<HeldLock | undefined> {
  const handle = await open(path, 'a').catch((error: Error) => {
    throw new LockError(`cannot lock ${path}: ${error.message}`);
  });
  try {
    const wait =
      timeoutSeconds === undefined ? [] : timeoutSeconds === 0 ? ['-n'] : ['-w', String(timeoutSeconds)];
    const child = spawn('flock', [shared ? '-s' : '-x', ...wait, '3'], {
      stdio: ['ignore', 'ignore', 'pipe', handle.fd],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([error]) => {
        throw new LockError(`cannot lock ${path}: ${(error as Error).message}`, {
          hint: 'tbuild needs flock(1) from util-linux',
        });
      }),
    ])) as [number | null];
    // flock exits 1 when the lock was not free in time (-n, -w); anything else is a failure.
    if (code === 1 && stderr === '') {
      await handle.close();
      return undefined;
    }
    if (code !== 0)
      throw new LockError(`cannot lock ${path}: ${stderr.trim() || `flock exited with ${code}`}`);
  } catch (error) {
    await handle.close();
    throw error;
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await handle.close();
    },
  };
}
