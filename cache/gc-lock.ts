import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, type HeldLock, tryLock } from '../locks.ts';

/**
 * `<root>/cache/gc.lock`: every build holds it shared while it runs; prune and the automatic GC
 * take it exclusively. Leases say what a build holds, but between a build leasing a record's
 * layers and mounting their snapshots there was a window in which a prune that had just read the
 * leases could remove a snapshot the build was about to mount; with this lock, cache deletion
 * and builds never overlap. Builds never exclude each other.
 */
function lockPath(root: string): string {
  return join(root, 'cache', 'gc.lock');
}

/**
 * Holds the cache for a build (shared). Waits while a prune runs, calling `onWait` first when it
 * has to.
 */
export async function holdCacheForBuild(root: string, onWait?: () => void): Promise<HeldLock> {
  await mkdir(join(root, 'cache'), { recursive: true });
  const now = await tryLock(lockPath(root), { shared: true });
  if (now) return now;
  onWait?.();
  return acquireLock(lockPath(root), { shared: true, timeoutSeconds: undefined });
}

/**
 * Takes the cache for deleting (exclusive). With `wait`, waits for running builds (calling
 * `onWait` first when it has to); without, returns undefined when any build is running.
 */
export async function lockCacheForGc(
  root: string,
  options: { wait: boolean; onWait?: () => void },
): Promise<HeldLock | undefined> {
  await mkdir(join(root, 'cache'), { recursive: true });
  const now = await tryLock(lockPath(root));
  if (now || !options.wait) return now;
  options.onWait?.();
  return acquireLock(lockPath(root), { timeoutSeconds: undefined });
}
