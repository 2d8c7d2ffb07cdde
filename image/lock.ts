/**
 * An exclusive inter-process lock on a file, held by a `flock(1)` helper process.
 *
 * Why flock through a helper rather than a `open(…, 'wx')` lock file: Node has no flock API, and a
 * lock file needs stale-lock detection by pid, which has a race when two processes break the same
 * stale lock at once (both can end up "holding" it) and misfires across pid namespaces. A kernel
 * flock is released by the kernel when its holder dies: if tbuild is killed with -9, the helper
 * sees EOF on its stdin and exits, and the lock is gone. The cost is one short-lived process per
 * critical section (a few milliseconds); the store takes the lock only around index updates and
 * garbage collection, never while streaming blobs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { StoreError } from './errors.ts';

/** A held lock; `release()` is idempotent. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Waits (up to `timeoutSeconds`) for an exclusive flock on `path`, creating the file if needed. */
export async function acquireLock(path: string, timeoutSeconds = 120): Promise<HeldLock> {
  // The shell prints a line once flock holds the lock, then blocks on stdin until we close it.
  const child = spawn(
    'flock',
    ['-x', '-w', String(timeoutSeconds), path, '-c', 'echo locked; exec cat >/dev/null'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = once(child, 'exit');
  const acquired = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('locked\n')) resolve();
    });
    child.on('error', (e) => reject(new StoreError(`cannot lock ${path}: ${e.message}`)));
    child.on('exit', (code) =>
      reject(new StoreError(`cannot lock ${path}: ${stderr.trim() || `flock exited with ${code}`}`)),
    );
  });
  await acquired;
  // The helper must not keep Node alive on its own, but it must live as long as we hold the lock.
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      child.stdin.end();
      await exited;
    },
  };
}
