/**
 * Applies a layer tar (gzip or plain, detected by magic bytes) onto a directory, with whiteouts,
 * opaque directories, hardlinks, devices, xattrs, owners, exact modes and mtimes.
 *
 * Containment: nothing is written outside `target`.
 * - Names are cleaned: a leading '/' and '.' components are dropped (a name is relative to the
 *   root, as in Docker), a '..' component or a NUL byte is rejected with a LayerError.
 * - Parent directories are resolved inside the root, chroot-style (containerd's fs.RootPath):
 *   a symlink met on the way is followed with `target` as '/', and '..' stops at the root. So a
 *   symlink `a -> /etc` followed by `a/passwd` writes `<target>/etc/passwd`.
 * - The last component is never followed: an existing node there is removed (unless both are
 *   directories), files are created with O_EXCL, and lchown/lutimes/lsetxattr act on the node itself.
 * - Hardlink targets are resolved the same way and must exist inside the root and not be directories.
 * - Whiteout names '.', '..' and '' are rejected.
 * This assumes nobody else writes into `target` while a layer is applied (no TOCTOU defence).
 */
import type { Stats } from 'node:fs';
import {
  chmod,
  lchown,
  link,
  lstat,
  lutimes,
  mkdir,
  open,
  readdir,
  readlink,
  rm,
  symlink,
} from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isPrivileged, makeSpecialNode, writeXattr } from './fs-meta.ts';
import { openLayer } from './layer-decompress.ts';
import { LayerError } from './layer-error.ts';
import { type LayerEntry, OPAQUE_MARKER, readTarEntries, WHITEOUT_PREFIX } from './layer-tar.ts';

/** How to apply. */
export interface ApplyOptions {
  /** chown entries to their uid/gid; default: when running as root. */
  sameOwner?: boolean;
  /**
   * `apply` (default): a whiteout deletes what lower layers put in the target. `overlay`: the
   * target is one overlayfs lower dir of its own, so whiteouts are kept in overlayfs's form
   * instead (a 0/0 character device; an opaque dir gets `trusted.overlay.opaque=y`), for a
   * snapshot that is stacked over the layers below it. `none`: the tar is a plain archive (a
   * build context), not a layer: `.wh.` names are ordinary files.
   */
  whiteouts?: 'apply' | 'overlay' | 'none';
}

/** What applying did. */
export interface ApplyResult {
  /** sha256 of the uncompressed tar (checks against the config's diff_ids). */
  diffID: string;
  /** sha256 of the bytes read (the blob digest). */
  digest: string;
  /** Number of tar entries processed, whiteouts included. */
  entries: number;
  /** Things skipped because this process lacks privileges (devices, trusted.* xattrs as non-root). */
  warnings: string[];
}

const MAX_SYMLINKS = 40; // Linux's MAXSYMLINKS

/** Applies the layer read from `blob` onto the directory `target` (created if missing). */
export async function applyLayer(
  blob: Readable | AsyncIterable<Uint8Array>,
  target: string,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  await mkdir(target, { recursive: true });
  const layer = await openLayer(blob);
  const state = new ApplyState(resolve(target), options.sameOwner ?? isPrivileged());
  state.overlayWhiteouts = options.whiteouts === 'overlay';
  state.plainArchive = options.whiteouts === 'none';
  let entries = 0;
  try {
    for await (const { entry, body } of readTarEntries(layer.tar)) {
      entries++;
      await applyEntry(state, entry, body);
    }
    await layer.done;
  } catch (error) {
    if (error instanceof LayerError) throw error;
    throw new LayerError('(archive)', `cannot read layer: ${(error as Error).message}`, { cause: error });
  }
  await state.finishDirectories();
  return { diffID: layer.diffID(), digest: layer.digest(), entries, warnings: state.warnings };
}

interface DirectoryMeta {
  entry: LayerEntry;
}

class ApplyState {
  readonly root: string;
  readonly chown: boolean;
  readonly privileged = isPrivileged();
  readonly warnings: string[] = [];
  /** Keep whiteouts as overlayfs markers instead of deleting (ApplyOptions.whiteouts). */
  overlayWhiteouts = false;
  /** `.wh.` names are files like any other (ApplyOptions.whiteouts `none`). */
  plainArchive = false;
  /** Absolute paths written by this layer: an opaque marker keeps them. */
  readonly unpacked = new Set<string>();
  /** Directories whose owner, mode, xattrs and mtime are set after their contents. */
  readonly directories = new Map<string, DirectoryMeta>();
  /** Parent names (as in the archive) → resolved absolute directory; cleared on any removal. */
  readonly resolved = new Map<string, string>();

  constructor(root: string, chown: boolean) {
    this.root = root;
    this.chown = chown;
  }

  /**
   * Resolves directory components inside the root, following symlinks with the root as '/'.
   * Creates missing directories (0755) when `create`; otherwise returns undefined for a missing
   * one. Throws when a component is not a directory or symlinks loop.
   */
  async resolveDir(
    parts: readonly string[],
    entryName: string,
    create: boolean,
  ): Promise<string | undefined> {
    const key = parts.join('/');
    const cached = this.resolved.get(key);
    if (cached !== undefined) return cached;
    let real: string[] = [];
    const pending = [...parts];
    let links = 0;
    while (pending.length > 0) {
      const part = pending.shift() as string;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        real.pop(); // never above the root, like '..' at '/'
        continue;
      }
      const abs = join(this.root, ...real, part);
      const stat = await lstatOrUndefined(abs);
      if (stat === undefined) {
        if (!create) return undefined;
        await mkdir(abs, 0o755);
        real.push(part);
        continue;
      }
      if (stat.isSymbolicLink()) {
        if (++links > MAX_SYMLINKS) throw new LayerError(entryName, 'too many levels of symbolic links');
        const linkTarget = await readlink(abs);
        if (linkTarget.startsWith('/')) real = [];
        pending.unshift(...linkTarget.split('/'));
        continue;
      }
      if (!stat.isDirectory()) {
        throw new LayerError(entryName, `parent /${[...real, part].join('/')} is not a directory`);
      }
      real.push(part);
    }
    const dir = join(this.root, ...real);
    this.resolved.set(key, dir);
    return dir;
  }

  /** Removes whatever is at `abs` (recursively, never following symlinks). */
  async remove(abs: string): Promise<void> {
    const stat = await lstatOrUndefined(abs);
    if (stat === undefined) return;
    await rm(abs, { recursive: true, force: true });
    // Only a removed directory or symlink can change how parent paths resolve.
    if (!stat.isDirectory() && !stat.isSymbolicLink()) return;
    this.resolved.clear();
    this.directories.delete(abs);
    const prefix = `${abs}/`;
    for (const key of this.directories.keys()) {
      if (key.startsWith(prefix)) this.directories.delete(key);
    }
  }

  warn(entry: LayerEntry, what: string): void {
    this.warnings.push(`${entry.path}: ${what}`);
  }

  /** Sets owner, mode, xattrs and mtime of the deferred directories, deepest first. */
  async finishDirectories(): Promise<void> {
    for (const [abs, { entry }] of [...this.directories].reverse()) {
      const stat = await lstatOrUndefined(abs);
      if (!stat?.isDirectory()) continue;
      await guard(entry, () => setMetadata(this, abs, entry));
    }
  }
}

/** Splits an entry name into clean components; rejects NUL bytes and '..'. */
function nameParts(name: string, entryName: string, what = 'name'): string[] {
  if (name.includes('\0')) throw new LayerError(entryName, `${what} contains a NUL byte`);
  const parts = name.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) throw new LayerError(entryName, `${what} has a '..' component`);
  return parts;
}

async function applyEntry(state: ApplyState, entry: LayerEntry, body: AsyncIterable<Buffer>): Promise<void> {
  const parts = nameParts(entry.path, entry.path);
  const base = parts.at(-1);
  if (base === undefined) {
    // The root itself ('./'): its metadata belongs to whoever owns the target directory.
    if (entry.type === 'directory') return;
    throw new LayerError(entry.path, `a ${entry.type} cannot replace the root directory`);
  }
  const parentParts = parts.slice(0, -1);
  if (base.startsWith(WHITEOUT_PREFIX) && !state.plainArchive) {
    await applyWhiteout(state, entry, parentParts, base);
    return;
  }
  const parent = await guard(entry, () => state.resolveDir(parentParts, entry.path, true));
  if (parent === undefined) throw new LayerError(entry.path, 'parent directory could not be created');
  const abs = join(parent, base);
  const linkTarget = entry.type === 'link' ? await resolveHardlinkTarget(state, entry) : undefined;
  if (linkTarget === abs) return; // a hardlink to itself: nothing to do

  await guard(entry, async () => {
    const existing = await lstatOrUndefined(abs);
    if (existing && !(existing.isDirectory() && entry.type === 'directory')) await state.remove(abs);
    state.unpacked.add(abs);
    switch (entry.type) {
      case 'directory':
        if (!existing?.isDirectory()) await mkdir(abs, 0o700);
        state.directories.set(abs, { entry });
        return;
      case 'file': {
        const handle = await open(abs, 'wx', 0o600); // O_EXCL: never writes through a symlink
        await pipeline(body, handle.createWriteStream());
        break;
      }
      case 'symlink':
        if (entry.linkname.includes('\0'))
          throw new LayerError(entry.path, 'symlink target contains a NUL byte');
        await symlink(entry.linkname, abs);
        break;
      case 'link':
        await link(linkTarget as string, abs); // link(2) does not follow a symlink target
        return;
      case 'fifo':
        await makeSpecialNode(abs, 'fifo');
        break;
      case 'character-device':
      case 'block-device':
        if (!state.privileged) {
          state.warn(entry, 'device node skipped (needs root)');
          state.unpacked.delete(abs);
          return;
        }
        await makeSpecialNode(abs, entry.type, entry.devmajor, entry.devminor);
        break;
    }
    await setMetadata(state, abs, entry);
  });
}

/** Owner, then mode (chown clears setuid/setgid), then xattrs (chown clears security.capability), then times. */
async function setMetadata(state: ApplyState, abs: string, entry: LayerEntry): Promise<void> {
  if (state.chown) await lchown(abs, entry.uid, entry.gid);
  if (entry.type !== 'symlink') await chmod(abs, entry.mode & 0o7777);
  for (const [name, value] of entry.xattrs) {
    try {
      await writeXattr(abs, name, value);
    } catch (error) {
      const message = String(error);
      const denied = /not permitted|not supported|permission denied/i.test(message);
      if (!denied) throw error;
      // user.* xattrs cannot exist on symlinks, and trusted.*/security.* need root.
      if (state.privileged && entry.type !== 'symlink' && !/not supported/i.test(message)) throw error;
      state.warn(entry, `xattr ${name} not set: ${message}`);
    }
  }
  await lutimes(abs, entry.mtime, entry.mtime);
}

async function resolveHardlinkTarget(state: ApplyState, entry: LayerEntry): Promise<string> {
  const parts = nameParts(entry.linkname, entry.path, 'hardlink target');
  const base = parts.at(-1);
  if (base === undefined) throw new LayerError(entry.path, 'hardlink to the root directory');
  const dir = await guard(entry, () => state.resolveDir(parts.slice(0, -1), entry.path, false));
  const abs = dir === undefined ? undefined : join(dir, base);
  const stat = abs === undefined ? undefined : await lstatOrUndefined(abs);
  if (abs === undefined || stat === undefined) {
    throw new LayerError(
      entry.path,
      `hardlink target ${JSON.stringify(entry.linkname)} does not exist in the layer or below`,
    );
  }
  if (stat.isDirectory()) throw new LayerError(entry.path, 'hardlink to a directory');
  return abs;
}

async function applyWhiteout(
  state: ApplyState,
  entry: LayerEntry,
  parentParts: string[],
  base: string,
): Promise<void> {
  if (state.overlayWhiteouts) {
    await applyOverlayWhiteout(state, entry, parentParts, base);
    return;
  }
  const dir = await guard(entry, () => state.resolveDir(parentParts, entry.path, false));
  if (base === OPAQUE_MARKER) {
    if (dir !== undefined) await guard(entry, () => clearLower(state, dir));
    return;
  }
  // Other `.wh..wh.*` names are aufs bookkeeping (e.g. `.wh..wh.plnk`); Docker skips them too.
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
  const victim = base.slice(WHITEOUT_PREFIX.length);
  if (victim === '' || victim === '.' || victim === '..') {
    throw new LayerError(entry.path, `whiteout names ${JSON.stringify(victim)}, which is not a file name`);
  }
  if (dir !== undefined) await guard(entry, () => state.remove(join(dir, victim)));
}

/** A whiteout kept in overlayfs form, for a snapshot used as an overlay lower dir. */
async function applyOverlayWhiteout(
  state: ApplyState,
  entry: LayerEntry,
  parentParts: string[],
  base: string,
): Promise<void> {
  const dir = await guard(entry, () => state.resolveDir(parentParts, entry.path, true));
  if (dir === undefined) throw new LayerError(entry.path, 'parent directory could not be created');
  if (base === OPAQUE_MARKER) {
    await guard(entry, () => writeXattr(dir, 'trusted.overlay.opaque', Buffer.from('y')));
    return;
  }
  if (base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) return;
  const victim = base.slice(WHITEOUT_PREFIX.length);
  if (victim === '' || victim === '.' || victim === '..' || victim.includes('/')) {
    throw new LayerError(entry.path, `whiteout names ${JSON.stringify(victim)}, which is not a file name`);
  }
  const abs = join(dir, victim);
  await guard(entry, async () => {
    await state.remove(abs);
    await makeSpecialNode(abs, 'character-device', 0, 0);
  });
}

/** Removes what lower layers put in `dir`, keeping the paths this layer already wrote. */
async function clearLower(state: ApplyState, dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const abs = join(dir, name);
    if (!state.unpacked.has(abs)) {
      await state.remove(abs);
      continue;
    }
    const stat = await lstat(abs);
    if (stat.isDirectory()) await clearLower(state, abs);
  }
}

async function lstatOrUndefined(abs: string): Promise<Stats | undefined> {
  try {
    return await lstat(abs);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Runs a filesystem step for one entry, turning a system error into a LayerError naming it. */
async function guard<T>(entry: LayerEntry, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof LayerError) throw error;
    throw new LayerError(entry.path, (error as Error).message, { cause: error });
  }
}
