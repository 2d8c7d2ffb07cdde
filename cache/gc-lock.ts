import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, acquireLocks, type HeldLock, LockError, tryLock, tryLocks } from '../locks.ts';
import { privateDirMode } from './root-modes.ts';

/**
 * Deletion from the cache and builds never overlap. Leases say what a build holds, but between a
 * build leasing a record's layers and mounting their snapshots there was a window in which a
 * prune that had just read the leases could remove a snapshot the build was about to mount.
 *
 * - `<root>/cache/gc.lock`: every build holds it shared while it runs; prune and the automatic GC
 *   take it exclusively. Builds never exclude each other.
 * - `<root>/cache/gc.intent`: a collector waiting for running builds holds it exclusively; a build
 *   passes through it (shared, released at once) before taking gc.lock. Kernel flocks grant a
 *   shared lock even while an exclusive one waits, so without it a root that always has a build
 *   running would never be collected: with it, new builds queue behind a waiting collector.
 */
function paths(root: string): { intent: string; lock: string } {
  return { intent: join(root, 'cache', 'gc.intent'), lock: join(root, 'cache', 'gc.lock') };
}

/** Holds the cache for a build (shared). Waits while a collector runs or waits, calling `onWait` first. */
export async function holdCacheForBuild(root: string, onWait?: () => void): Promise<HeldLock> {
  await mkdir(join(root, 'cache'), { recursive: true, mode: privateDirMode });
  const { intent, lock } = paths(root);
  let held = await tryLocks([intent, lock], { shared: true });
  if (!held) {
    onWait?.();
    held = await acquireLocks([intent, lock], { shared: true, timeoutSeconds: undefined });
  }
  const [passed, hold] = held as [HeldLock, HeldLock];
  await passed.release();
  return hold;
}

/**
 * Takes the cache for deleting (exclusive). Without `wait`, returns undefined when any build is
 * running. With it, waits for running builds (new ones queue behind), calling `onWait` first,
 * up to `timeoutSeconds` (then undefined; no limit when absent).
 */
export async function lockCacheForGc(
  root: string,
  options: { wait: boolean; timeoutSeconds?: number; onWait?: () => void },
): Promise<HeldLock | undefined> {
  await mkdir(join(root, 'cache'), { recursive: true, mode: privateDirMode });
  const { intent, lock } = paths(root);
  const now = await tryLock(lock);
  if (now || !options.wait) return now;
  options.onWait?.();
  // Builds hold the intent only for an instant: this wait is short.
  const queued = await acquireLock(intent, { timeoutSeconds: undefined });
  try {
    return await acquireLock(lock, { timeoutSeconds: options.timeoutSeconds });
  } catch (error) {
    if (error instanceof LockError && options.timeoutSeconds !== undefined) return undefined;
    throw error;
  } finally {
    // Builds that queued now pass the intent and wait on gc.lock until the collector is done.
    await queued.release();
  }
}
