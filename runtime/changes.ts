/**
 * `diff`: what changed in a container's filesystem since it was created, as dockerd 20.10
 * reports it. Its overlay2 driver takes the naive diff there (graphdriver NaiveDiffDriver →
 * pkg/archive ChangesDirs): the container's view (image + init layer + writable layer) compared
 * with what it started from (image + init layer), file by file:
 *  - A: in the container's view only (and everything under an added directory);
 *  - D: in the base only (a deleted directory's contents are not listed);
 *  - C: in both, with another type, mode, owner or device, or (not for a directory) another
 *    size or modification time (equal when the seconds are and either side has no nanoseconds);
 *  - a directory with any change inside is listed C before them, unless listed already (`/` never).
 * The init layer is in both views, so /etc/hosts, /etc/hostname, /etc/resolv.conf, /dev/console,
 * /proc, /sys and the rest of Docker's init files never show; nor do runc's mounts (/dev, /proc,
 * binds), which are not in either view.
 *
 * Only directories that exist in the writable layer can differ, so the walk follows it instead
 * of both whole trees. Docker lists siblings in Go's map order (random); here they are sorted.
 * (dockerd also compares the security.capability attribute; Node cannot read extended
 * attributes, so a change of file capabilities alone is not seen.)
 */
import type { BigIntStats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { activeSnapshotPaths } from '../cache/index.ts';
import { withBaseFs, withContainerFs } from './bundle.ts';
import { inspectContainer } from './lifecycle.ts';

export interface Change {
  kind: 'A' | 'C' | 'D';
  /** Absolute, as the container sees it. */
  path: string;
}

/** The container's changes (an empty list for one that never ran). */
export async function containerChanges(root: string, ref: string): Promise<Change[]> {
  const container = await inspectContainer(root, ref);
  const upper = activeSnapshotPaths(root, container.record.Id).fs;
  if ((await lstat(upper).catch(() => undefined)) === undefined) return [];
  return withContainerFs(root, container, (now) =>
    withBaseFs(root, container, (base) => diffTrees({ upper, now, base })),
  );
}

/** The three trees a diff reads: the writable layer, the container's view and its base. */
export interface DiffTrees {
  upper: string;
  now: string;
  base: string;
}

/** Changes of `now` against `base`, looking only where `upper` (the writable layer) has entries. */
export async function diffTrees(trees: DiffTrees): Promise<Change[]> {
  const out: Change[] = [];
  await compareDir(trees, '/', out);
  return out;
}

async function compareDir(trees: DiffTrees, dir: string, out: Change[]): Promise<void> {
  const [inUpper, inNow, inBase] = await Promise.all([
    names(join(trees.upper, dir)),
    names(join(trees.now, dir)),
    names(join(trees.base, dir)),
  ]);
  const present = new Set(inNow);
  // Candidates: what the writable layer holds (changed or whited out) and what the base had
  // that is gone (a whiteout, or under an opaque directory).
  const candidates = [...new Set([...inUpper, ...inBase.filter((n) => !present.has(n))])].sort();
  const inBaseSet = new Set(inBase);
  for (const name of candidates) {
    const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
    if (!present.has(name)) {
      if (inBaseSet.has(name)) out.push({ kind: 'D', path });
      continue;
    }
    const now = await lstat(join(trees.now, path), { bigint: true });
    const base = inBaseSet.has(name) ? await lstat(join(trees.base, path), { bigint: true }) : undefined;
    if (base === undefined) {
      out.push({ kind: 'A', path });
      if (now.isDirectory()) await addAll(trees.now, path, out);
      continue;
    }
    const mark = out.length;
    const changed = statDifferent(base, now);
    if (changed) out.push({ kind: 'C', path });
    if (!now.isDirectory()) continue;
    if (base.isDirectory()) await compareDir(trees, path, out);
    else await addAll(trees.now, path, out);
    if (!changed && out.length > mark) out.splice(mark, 0, { kind: 'C', path });
  }
}

/** Everything under an added directory is added. */
async function addAll(tree: string, dir: string, out: Change[]): Promise<void> {
  for (const name of (await names(join(tree, dir))).sort()) {
    const path = `${dir}/${name}`;
    out.push({ kind: 'A', path });
    if ((await lstat(join(tree, path))).isDirectory()) await addAll(tree, path, out);
  }
}

async function names(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => [] as string[]);
}

/** moby pkg/archive statDifferent (Linux). */
function statDifferent(base: BigIntStats, now: BigIntStats): boolean {
  if (base.mode !== now.mode || base.uid !== now.uid || base.gid !== now.gid || base.rdev !== now.rdev) {
    return true;
  }
  if (now.isDirectory()) return false;
  return base.size !== now.size || !sameTime(base, now);
}

/** Go's sameFsTimeSpec: equal seconds, and equal nanoseconds unless either has none. */
function sameTime(a: BigIntStats, b: BigIntStats): boolean {
  const second = 1_000_000_000n;
  const [aSec, aNsec] = [a.mtimeNs / second, a.mtimeNs % second];
  const [bSec, bNsec] = [b.mtimeNs / second, b.mtimeNs % second];
  return aSec === bSec && (aNsec === bNsec || aNsec === 0n || bNsec === 0n);
}
