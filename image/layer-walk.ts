/**
 * What goes into a layer: the changes a source yields, in the order BuildKit/containerd write them
 * (a depth-first walk with each directory's names sorted by bytes, like Go's filepath.Walk).
 */
import { type BigIntStats, lstatSync, readdirSync } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { compareBytes, readXattrs, readXattrsSync, type Xattr } from './fs-meta.ts';
import { LayerError } from './layer-error.ts';

/** Where a layer's content comes from. */
export type LayerSource =
  /** Every entry under `path` (the root directory itself is not an entry). */
  | { kind: 'directory'; path: string }
  /**
   * An overlayfs upperdir: char devices 0/0 are whiteouts, directories with
   * `trusted.overlay.opaque=y` (or `user.overlay.opaque` with userxattr) are opaque; the
   * overlay's own xattrs are not packed.
   */
  | { kind: 'overlay'; upperdir: string }
  /** The naive differ: what changed from `lower` to `upper` (containerd's fs.Changes idea). */
  | { kind: 'diff'; lower: string; upper: string };

/** One change to write: a filesystem node to pack, or a deleted path (a whiteout). */
export type LayerChange =
  | {
      kind: 'node';
      /** Relative path with '/' separators, no leading './'. */
      path: string;
      /** Where to read it from. */
      abs: string;
      stat: BigIntStats;
      /** Xattrs to pack (already filtered). */
      xattrs: Xattr[];
      /** Directory whose lower contents are hidden: followed by a `.wh..wh..opq` entry. */
      opaque: boolean;
    }
  | {
      kind: 'whiteout';
      /** The deleted path, relative. */
      path: string;
      /** The overlay whiteout device, when there is one (its times are kept). */
      stat: BigIntStats | undefined;
    };

const S_IFMT = 0o170000n;
const S_IFCHR = 0o020000n;

/** The changes of a source, in layer order. */
export function walkChanges(source: LayerSource): AsyncGenerator<LayerChange> {
  switch (source.kind) {
    case 'directory':
      return walkTree(source.path, '', readAllXattrs);
    case 'overlay':
      return walkOverlay(source.upperdir, '');
    case 'diff':
      return walkDiff(source.lower, source.upper);
  }
}

type XattrReader = (abs: string, rel: string) => Xattr[];

const readAllXattrs: XattrReader = (abs) => readXattrsSync(abs);

async function sortedNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort(compareBytes);
}

// The whole-tree walks below call the file system synchronously: a layer of 20,000 small files
// spent ~0.25 ms a file waiting on libuv's pool for lstat and listxattr, calls that take a few
// microseconds each when made directly (the packer's consumer, gzip, runs in the pool meanwhile).
function sortedNamesSync(dir: string): string[] {
  return readdirSync(dir).sort(compareBytes);
}

function childPath(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

async function* walkTree(absDir: string, relDir: string, xattrsOf: XattrReader): AsyncGenerator<LayerChange> {
  for (const name of sortedNamesSync(absDir)) {
    const abs = join(absDir, name);
    const path = childPath(relDir, name);
    const stat = lstatSync(abs, { bigint: true });
    yield { kind: 'node', path, abs, stat, xattrs: xattrsOf(abs, path), opaque: false };
    if (stat.isDirectory()) yield* walkTree(abs, path, xattrsOf);
  }
}

// overlayfs keeps its bookkeeping in trusted.overlay.* (user.overlay.* when mounted with userxattr).
const OVERLAY_XATTR = /^(trusted|user)\.overlay\./;

async function* walkOverlay(absDir: string, relDir: string): AsyncGenerator<LayerChange> {
  for (const name of sortedNamesSync(absDir)) {
    const abs = join(absDir, name);
    const path = childPath(relDir, name);
    const stat = lstatSync(abs, { bigint: true });
    if ((stat.mode & S_IFMT) === S_IFCHR && stat.rdev === 0n) {
      yield { kind: 'whiteout', path, stat };
      continue;
    }
    const all = readXattrsSync(abs);
    const overlay = new Map(all.filter(([key]) => OVERLAY_XATTR.test(key)));
    for (const key of overlay.keys()) {
      // Renamed directories (redirect_dir) and metadata-only copy-ups (metacopy) keep their data
      // in a lower layer, which a layer tar cannot express (BuildKit refuses them too).
      if (/\.(redirect|metacopy)$/.test(key)) {
        throw new LayerError(path, `overlay upperdir uses ${key}, which a layer cannot express`, {
          hint: 'mount the overlay with redirect_dir=off,metacopy=off',
        });
      }
    }
    const opaqueValue = overlay.get('trusted.overlay.opaque') ?? overlay.get('user.overlay.opaque');
    const opaque = stat.isDirectory() && opaqueValue?.toString() === 'y';
    const xattrs = all.filter(([key]) => !OVERLAY_XATTR.test(key));
    yield { kind: 'node', path, abs, stat, xattrs, opaque };
    if (stat.isDirectory()) yield* walkOverlay(abs, path);
  }
}

/** A directory of the upper tree not yet written: emitted only if something below it changes. */
interface PendingDir {
  change: LayerChange;
  emitted: boolean;
}

async function* walkDiff(lowerRoot: string, upperRoot: string): AsyncGenerator<LayerChange> {
  // containerd's ChangeWriter includes the parent directories of every change (includeParents),
  // so the applied tree gets their current metadata and mtimes.
  const parents: PendingDir[] = [];
  function* withParents(change: LayerChange): Generator<LayerChange> {
    for (const parent of parents) {
      if (!parent.emitted) {
        parent.emitted = true;
        yield parent.change;
      }
    }
    yield change;
  }

  async function* diffDir(lowerDir: string, upperDir: string, relDir: string): AsyncGenerator<LayerChange> {
    const lowerNames = await sortedNames(lowerDir);
    const upperNames = await sortedNames(upperDir);
    let i = 0;
    let j = 0;
    while (i < lowerNames.length || j < upperNames.length) {
      const lowerName = lowerNames[i];
      const upperName = upperNames[j];
      const order =
        lowerName === undefined ? 1 : upperName === undefined ? -1 : compareBytes(lowerName, upperName);
      if (order < 0 && lowerName !== undefined) {
        yield* withParents({ kind: 'whiteout', path: childPath(relDir, lowerName), stat: undefined });
        i++;
        continue;
      }
      if (upperName === undefined) break;
      const path = childPath(relDir, upperName);
      const upperAbs = join(upperDir, upperName);
      const upperStat = await lstat(upperAbs, { bigint: true });
      const change: LayerChange = {
        kind: 'node',
        path,
        abs: upperAbs,
        stat: upperStat,
        xattrs: await readXattrs(upperAbs),
        opaque: false,
      };
      j++;
      if (order > 0) {
        yield* withParents(change);
        if (upperStat.isDirectory()) yield* walkTree(upperAbs, path, readAllXattrs);
        continue;
      }
      i++;
      const lowerAbs = join(lowerDir, upperName);
      const lowerStat = await lstat(lowerAbs, { bigint: true });
      const same = await isSameNode(lowerAbs, lowerStat, change);
      if (upperStat.isDirectory() && lowerStat.isDirectory()) {
        const pending: PendingDir = { change, emitted: false };
        if (!same) yield* withParents(change);
        pending.emitted = !same;
        parents.push(pending);
        yield* diffDir(lowerAbs, upperAbs, path);
        parents.pop();
      } else if (!same) {
        yield* withParents(change);
        if (upperStat.isDirectory()) yield* walkTree(upperAbs, path, readAllXattrs);
      }
    }
  }

  yield* diffDir(lowerRoot, upperRoot, '');
}

/**
 * containerd's sameFile (continuity/fs/path.go): type, mode, owner, device number and xattrs must
 * match; for non-directories also size and mtime, and the content (or symlink target) when both
 * mtimes have zero nanoseconds and so may have been truncated by a copy.
 */
async function isSameNode(lowerAbs: string, lower: BigIntStats, upper: LayerChange): Promise<boolean> {
  if (upper.kind !== 'node') return false;
  const u = upper.stat;
  if (lower.mode !== u.mode || lower.uid !== u.uid || lower.gid !== u.gid || lower.rdev !== u.rdev)
    return false;
  if (!sameXattrs(await readXattrs(lowerAbs), upper.xattrs)) return false;
  if (u.isDirectory()) return true;
  if (lower.size !== u.size) return false;
  if (u.isSymbolicLink() && (await readlink(lowerAbs)) !== (await readlink(upper.abs))) return false;
  if (lower.mtimeNs !== u.mtimeNs) return false;
  const truncated = lower.mtimeNs % 1_000_000_000n === 0n;
  if (truncated && u.isFile() && u.size > 0n) return isSameContent(lowerAbs, upper.abs);
  return true;
}

function sameXattrs(a: readonly Xattr[], b: readonly Xattr[]): boolean {
  return a.length === b.length && a.every(([key, value], i) => b[i]?.[0] === key && b[i]?.[1].equals(value));
}

async function isSameContent(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const size = 64 * 1024;
    const ba = Buffer.alloc(size);
    const bb = Buffer.alloc(size);
    for (;;) {
      const [ra, rb] = await Promise.all([fa.read(ba, 0, size, null), fb.read(bb, 0, size, null)]);
      if (ra.bytesRead !== rb.bytesRead) return false;
      if (ra.bytesRead === 0) return true;
      if (!ba.subarray(0, ra.bytesRead).equals(bb.subarray(0, rb.bytesRead))) return false;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}
