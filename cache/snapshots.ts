import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { privateDirMode } from './root-modes.ts';
import { scratchPath } from './sweep.ts';

/**
 * Snapshots are directories. Each holds one layer's contents in overlayfs form (deleted paths as
 * 0/0 character devices, opaque directories marked with `trusted.overlay.opaque`), so a root
 * filesystem is an overlay mount of a stack of them. A snapshot is named by its layer's diffID
 * (the sha256 of the uncompressed layer tar): the same layer is unpacked once, whoever needs it.
 *
 * Layout under the store root:
 *   snapshots/<first 16 hex of diffID>/fs         the layer's files
 *   snapshots/<first 16 hex of diffID>/diffid     the full diffID, checked on every open
 *   tmp/snap-<owner>-<random>/{fs,work}           a step being built (upper and overlay work dir;
 *                                                 <owner> = pid.starttime, see sweep.ts)
 *
 * Short names keep an overlay `lowerdir=` list of many layers under the kernel's one-page limit
 * when mounted with paths relative to `snapshots/`.
 */
export interface SnapshotPaths {
  /** The directory holding the layer's files. */
  fs: string;
  /** The name relative to the snapshots directory, for short overlay option strings: `<id>/fs`. */
  relative: string;
}

/** `<snapshot>/size`: the disk bytes of its `fs` tree, as gc.ts's snapshotBytes reads and writes it. */
export const snapshotSizeFile = 'size';

export function snapshotsDir(root: string): string {
  return join(root, 'snapshots');
}

function snapshotId(diffId: string): string {
  return diffId.replace(/^sha256:/, '').slice(0, 16);
}

export function snapshotPaths(root: string, diffId: string): SnapshotPaths {
  const id = snapshotId(diffId);
  return { fs: join(snapshotsDir(root), id, 'fs'), relative: `${id}/fs` };
}

/** True when the layer with this diffID is unpacked and complete. */
export async function hasSnapshot(root: string, diffId: string): Promise<boolean> {
  const dir = join(snapshotsDir(root), snapshotId(diffId));
  try {
    return (await readFile(join(dir, 'diffid'), 'utf8')) === diffId;
  } catch {
    return false;
  }
}

/** A private scratch directory for a step: `fs` becomes the snapshot, `work` is overlayfs's. */
export interface MutableSnapshot {
  dir: string;
  fs: string;
  work: string;
}

export async function createMutable(root: string): Promise<MutableSnapshot> {
  const dir = scratchPath(root, 'snap');
  const fs = join(dir, 'fs');
  const work = join(dir, 'work');
  await mkdir(dir, { recursive: true, mode: privateDirMode });
  // `fs` becomes the image's `/` (an overlay's root takes its upper's mode): content, not ours to close.
  await mkdir(fs, { mode: 0o755 });
  await mkdir(work, { mode: privateDirMode });
  return { dir, fs, work };
}

/**
 * Turns a finished step's upper directory into the snapshot for `diffId`, with its disk size
 * (`diskBytes`, when the caller knows it) recorded for the cache's accounting. The rename is atomic, so
 * another process sees either no snapshot or a complete one; when another process committed the
 * same layer first, ours is dropped.
 */
export async function commitMutable(
  root: string,
  mutable: MutableSnapshot,
  diffId: string,
  diskBytes?: number,
): Promise<SnapshotPaths> {
  const paths = snapshotPaths(root, diffId);
  const target = join(snapshotsDir(root), snapshotId(diffId));
  await rm(mutable.work, { recursive: true, force: true });
  // The size gc.ts would otherwise measure with a walk of the whole tree after the build.
  if (diskBytes !== undefined) await writeFile(join(mutable.dir, snapshotSizeFile), String(diskBytes));
  await writeFile(join(mutable.dir, 'diffid'), diffId);
  await mkdir(snapshotsDir(root), { recursive: true, mode: privateDirMode });
  if (await hasSnapshot(root, diffId)) {
    await rm(mutable.dir, { recursive: true, force: true });
    return paths;
  }
  try {
    await rename(mutable.dir, target);
  } catch (error) {
    // A half-made snapshot left by a killed process (no `diffid` file) is replaced.
    if (!(await hasSnapshot(root, diffId)) && (await exists(target))) {
      await rm(target, { recursive: true, force: true });
      await rename(mutable.dir, target);
    } else if (await hasSnapshot(root, diffId)) {
      await rm(mutable.dir, { recursive: true, force: true });
    } else throw error;
  }
  return paths;
}

export async function discardMutable(mutable: MutableSnapshot): Promise<void> {
  await rm(mutable.dir, { recursive: true, force: true });
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
