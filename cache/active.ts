import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { privateDirMode } from './root-modes.ts';
import { snapshotsDir } from './snapshots.ts';

/**
 * Active snapshots: writable layers that live longer than one build step, such as a container's
 * (containerd calls them "active" snapshots, as opposed to committed ones). Each is a directory
 * in the snapshot store beside the committed layers:
 *
 *   snapshots/active-<key>/fs        the writable upper (every change made through the mount)
 *   snapshots/active-<key>/work      overlayfs's work dir
 *   snapshots/active-<key>/parents   the diffIDs it stands on, one a line, base first
 *   snapshots/active-<key>/owner     a path outside the cache; the snapshot lives while it exists
 *
 * The GC keeps every parent of an active snapshot (gc.ts) and never counts the snapshot itself as
 * a layer (it has no `diffid` file). The owner file lets the cache drop an active snapshot whose
 * owner was removed or never finished being made (kill -9 between the two), without knowing what
 * the owner is.
 */
export interface ActiveSnapshot {
  dir: string;
  fs: string;
  work: string;
}

const prefix = 'active-';

export function activeSnapshotPaths(root: string, key: string): ActiveSnapshot {
  if (!/^[a-zA-Z0-9_.-]+$/.test(key)) throw new Error(`invalid active snapshot key: ${key}`);
  const dir = join(snapshotsDir(root), `${prefix}${key}`);
  return { dir, fs: join(dir, 'fs'), work: join(dir, 'work') };
}

/** Creates (or re-creates, emptied of nothing: an existing upper is kept) an active snapshot. */
export async function createActiveSnapshot(
  root: string,
  key: string,
  parents: readonly string[],
  owner: string,
): Promise<ActiveSnapshot> {
  const paths = activeSnapshotPaths(root, key);
  await mkdir(paths.dir, { recursive: true, mode: privateDirMode });
  // `fs` is the container's `/` (an overlay's root takes its upper's mode): content, not ours to close.
  await mkdir(paths.fs, { recursive: true, mode: 0o755 });
  await mkdir(paths.work, { recursive: true, mode: privateDirMode });
  await writeFile(join(paths.dir, 'parents'), parents.map((p) => `${p}\n`).join(''));
  await writeFile(join(paths.dir, 'owner'), owner);
  return paths;
}

/** Removes an active snapshot (renamed aside first, so a half-removed one is never seen). */
export async function removeActiveSnapshot(root: string, key: string): Promise<void> {
  const { dir } = activeSnapshotPaths(root, key);
  const trash = join(root, 'tmp', `trash-${prefix}${key}`);
  await mkdir(join(root, 'tmp'), { recursive: true, mode: privateDirMode });
  try {
    await rename(dir, trash);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  await rm(trash, { recursive: true, force: true });
}

/** The active snapshots that are kept: their keys and parents. Orphans (owner gone) are listed apart. */
export async function listActiveSnapshots(
  root: string,
): Promise<{ key: string; dir: string; parents: string[]; orphan: boolean }[]> {
  const out: { key: string; dir: string; parents: string[]; orphan: boolean }[] = [];
  for (const name of await readdir(snapshotsDir(root)).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const dir = join(snapshotsDir(root), name);
    const read = (file: string) => {
      try {
        return readFileSync(join(dir, file), 'utf8');
      } catch {
        return undefined;
      }
    };
    const owner = read('owner');
    const parents = (read('parents') ?? '').split('\n').filter((l) => l !== '');
    out.push({
      key: name.slice(prefix.length),
      dir,
      parents,
      orphan: owner === undefined || !existsSync(owner),
    });
  }
  return out;
}
