import { randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../processes.ts';
import { privateDirMode } from './root-modes.ts';

/**
 * What a running build uses, so that `prune`, the automatic GC and the image store's GC running in
 * another process leave it alone: the cache keys it hit or wrote, the diffIDs of the snapshots it
 * mounts and the digests of the blobs its results refer to. One append-only file per process,
 * `<root>/cache/leases/<pid>-<random>`, removed by `release()`; the file of a dead process is stale
 * and is removed by the next reader (a reused pid only delays collection: the safe direction).
 */
export interface CacheLease {
  /** Protects these names (cache keys, diffIDs, blob digests) until released. */
  hold(names: Iterable<string>): Promise<void>;
  release(): Promise<void>;
}

export function leasesDir(root: string): string {
  return join(root, 'cache', 'leases');
}

export function createCacheLease(root: string): CacheLease {
  const path = join(leasesDir(root), `${process.pid}-${randomBytes(6).toString('hex')}`);
  const held = new Set<string>();
  let created = false;
  return {
    async hold(names) {
      const fresh = [...names].filter((n) => !held.has(n));
      if (fresh.length === 0) return;
      for (const n of fresh) held.add(n);
      // Synchronous: a lease grows by a line at every hit and step (see records.ts for why).
      if (!created) mkdirSync(leasesDir(root), { recursive: true, mode: privateDirMode });
      created = true;
      appendFileSync(path, `${fresh.join('\n')}\n`);
    },
    async release() {
      if (created) await rm(path, { force: true });
      created = false;
      held.clear();
    },
  };
}

/** Every name held by a live process's lease; removes stale lease files. */
export async function readLiveLeases(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  const names = await readdir(leasesDir(root)).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(leasesDir(root), name);
    const pid = Number.parseInt(name.split('-')[0] ?? '', 10);
    if (!Number.isInteger(pid) || !isProcessAlive(pid)) {
      await rm(path, { force: true });
      continue;
    }
    const text = await readFile(path, 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line !== '') out.add(line);
  }
  return out;
}
