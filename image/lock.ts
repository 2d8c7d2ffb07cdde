/**
 * An exclusive inter-process lock on a file: a kernel flock taken by `flock(1)` on a file
 * descriptor this process hands it, and then held by this process alone.
 *
 * Why flock rather than an `open(…, 'wx')` lock file: a lock file needs stale-lock detection by
 * pid, which has a race when two processes break the same stale lock at once (both can end up
 * "holding" it) and misfires across pid namespaces. A kernel flock is released by the kernel when
 * its holder dies, so kill -9 never leaves a stale lock.
 *
 * Why through `flock(1)`: Node has no flock API. The lock belongs to the open file description,
 * not to the process that asked for it: we open the file, pass the descriptor to `flock -x 3` as
 * its fd 3, and once the helper exits with the lock taken, our descriptor (the only one left on
 * that description) holds it. Closing the descriptor, or dying, releases it. One short process
 * per critical section and no shell (an earlier version kept a `bash -c` helper alive for the
 * whole section: ~20 ms of every index update). Node opens files close-on-exec, so no other child
 * inherits the lock.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { open } from 'node:fs/promises';
import { StoreError } from './errors.ts';

/** A held lock; `release()` is idempotent. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Waits (up to `timeoutSeconds`) for an exclusive flock on `path`, creating the file if needed. */
export async function acquireLock(path: string, timeoutSeconds = 120): Promise<HeldLock> {
  const handle = await open(path, 'a').catch((error: Error) => {
    throw new StoreError(`cannot lock ${path}: ${error.message}`);
  });
  try {
    const child = spawn('flock', ['-x', '-w', String(timeoutSeconds), '3'], {
      stdio: ['ignore', 'ignore', 'pipe', handle.fd],
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const [code] = (await Promise.race([
      once(child, 'exit'),
      once(child, 'error').then(([error]) => {
        throw new StoreError(`cannot lock ${path}: ${(error as Error).message}`);
      }),
    ])) as [number | null];
    if (code !== 0) {
      const reason = code === 1 && stderr === '' ? `timed out after ${timeoutSeconds} s` : stderr.trim();
      throw new StoreError(`cannot lock ${path}: ${reason || `flock exited with ${code}`}`);
    }
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
