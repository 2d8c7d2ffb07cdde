import {
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { chmod as chmodPath, copyFile, lchown, lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import { resolveInRoot, resolveUser } from '../../executor/index.ts';
import type { CopyOp, MkdirOp, MkfileOp } from '../graph.ts';
import { parseChmod } from './chmod.ts';
import type { SelectedSource } from './copy-sources.ts';
import { isTarArchive, unpackArchive } from './unpack.ts';

/** Files copied at once by one COPY (the libuv pool has 4 threads; more keeps it busy). */
const copyParallelism = 16;
/** Files up to this size are copied with synchronous calls; larger ones through the pool. */
const syncCopyMaxBytes = 1 << 20;
const newFileFlags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** How long a COPY runs synchronous calls before it lets the event loop turn. */
const yieldEveryMs = 50;

interface CopyContext {
  /** Context files arrive owned by root, as Docker documents; stage files keep their owner. */
  fromContext: boolean;
  signal: AbortSignal;
}

interface Ownership {
  uid: number;
  gid: number;
}

/** Performs a COPY into a mounted rootfs. */
export async function copyIntoRootfs(
  rootfs: string,
  sourceRoot: string,
  selected: SelectedSource[],
  op: CopyOp,
  context: CopyContext,
): Promise<void> {
  const owner = op.chown ? await resolveOwner(rootfs, op.chown) : undefined;
  const mode = op.chmod ? parseChmod(op.chmod) : undefined;
  // Each source is copied on its own, as BuildKit chains one copy action per source
  // (dockerfile2llb/convert_copy.go; fsutil copy's prepareTargetDir): a file goes INTO the
  // destination when it ends with `/` or is a directory by then, else it becomes the destination.
  // So `COPY a b /dest` and `COPY *.txt /dest` with two matches leave /dest a file holding the
  // last source (moby/buildkit#1853, #4550; the classic builder of Docker 20.10 rejects them).
  const destIsDir = op.dest.endsWith('/');
  for (const source of selected) {
    context.signal.throwIfAborted();
    // ADD unpacks a local tar archive into the destination directory (Docker: "the destination
    // is a directory"), instead of copying the archive.
    if (op.extractArchives && source.type === 'file') {
      const archive = await resolveSource(sourceRoot, source.item, true);
      if (await isTarArchive(archive)) {
        await ensureDirectory(rootfs, op.dest, owner, mode);
        await unpackArchive(archive, resolveInRoot(rootfs, op.dest));
        continue;
      }
    }
    let destBase: string;
    if (source.type === 'dir') destBase = op.dest;
    else if (destIsDir || (await isDirectory(resolveInRoot(rootfs, op.dest)))) {
      destBase = posix.join(op.dest, posix.basename(source.item));
    } else destBase = op.dest;
    const parentDir = source.type === 'dir' ? destBase : posix.dirname(destBase);
    await ensureDirectory(rootfs, parentDir, owner, mode);
    const dirTimes: [string, Date, Date][] = [];
    // Files hard-linked together in the source stay linked in the copy (fsutil copy's inode map).
    // Each inode maps to the path of its first copy once that copy is done (undefined if it failed).
    const copiedInodes = new Map<string, Promise<string | undefined>>();
    // Directories this copy made or checked (a real directory now), by `rel`: their children are
    // `<dir>/<name>` without resolving the whole path again, one lstat per component.
    const madeDirs = new Map<string, string>();
    const copyEntry = async (entry: SelectedSource['entries'][number]): Promise<void> => {
      const from = await resolveSource(sourceRoot, entry.src, entry.rel === '');
      // Synchronous calls from here on, but for the data of large files: a COPY of 20,000 small
      // files spent ~3 s in libuv pool round trips for calls that take microseconds each.
      const info = lstatSync(from);
      let linked: ((path: string | undefined) => void) | undefined;
      let firstCopy: Promise<string | undefined> | undefined;
      if (info.isFile() && info.nlink > 1) {
        // Claimed with no await in between, so exactly one entry of an inode copies the data.
        const inode = `${info.dev}:${info.ino}`;
        firstCopy = copiedInodes.get(inode);
        if (firstCopy === undefined) {
          copiedInodes.set(
            inode,
            new Promise((resolve) => {
              linked = resolve;
            }),
          );
        }
      }
      try {
        // The destination itself resolves through symlinks, its last component included (fsutil
        // copy resolves it with RootPath), so `COPY f /link` writes where /link points; paths
        // below it are replaced as they are.
        const parent = entry.rel === '' ? undefined : madeDirs.get(parentOf(entry.rel));
        const to =
          parent === undefined
            ? resolveInRoot(rootfs, posix.join(destBase, entry.rel), entry.rel === '')
            : posix.join(parent, posix.basename(entry.rel));
        const ids = owner ?? (context.fromContext ? { uid: 0, gid: 0 } : { uid: info.uid, gid: info.gid });
        const perms = mode ? mode(info.mode, info.isDirectory()) : info.mode & 0o7777;
        if (info.isDirectory()) {
          const existing = lstatSync(to, { throwIfNoEntry: false });
          if (existing && !existing.isDirectory()) rmSync(to, { recursive: true, force: true });
          if (!existing?.isDirectory()) mkdirSync(to);
          // A directory below the copy's root takes the source's owner and mode even when it
          // exists (fsutil copy overwrites target metadata for children; only the destination
          // root, made by ensureDirectory, keeps its own).
          lchownSync(to, ids.uid, ids.gid);
          chmodSync(to, perms);
          dirTimes.push([to, info.atime, info.mtime]);
          madeDirs.set(entry.rel, to);
          return;
        }
        const first = firstCopy && (await firstCopy);
        if (first !== undefined) {
          replacing(to, () => linkSync(first, to));
          return;
        }
        if (info.isSymbolicLink()) {
          const target = readlinkSync(from);
          replacing(to, () => symlinkSync(target, to));
          lchownSync(to, ids.uid, ids.gid);
          lutimesSync(to, info.atime, info.mtime);
          return;
        }
        // Sockets and other special files arrive as regular files, as BuildKit copies them.
        // O_EXCL|O_NOFOLLOW: whatever is in the way (a symlink included) is replaced, not written through.
        const fd = replacing(to, () => openSync(to, newFileFlags, 0o600));
        const large = info.isFile() && info.size > syncCopyMaxBytes;
        try {
          if (!large) {
            if (info.isFile() && info.size > 0) writeFileSync(fd, readFileSync(from));
            fchownSync(fd, ids.uid, ids.gid);
            fchmodSync(fd, perms);
            futimesSync(fd, info.atime, info.mtime);
          }
        } finally {
          closeSync(fd);
        }
        if (large) {
          // Large files copy in the pool (copy_file_range), not blocking the event loop for long.
          await copyFile(from, to);
          lchownSync(to, ids.uid, ids.gid);
          chmodSync(to, perms);
          utimesSync(to, info.atime, info.mtime);
        }
        linked?.(to);
      } finally {
        linked?.(undefined);
      }
    };
    // Entries need only their parent directory, and a directory comes before what it holds: the
    // directories (and the item itself) are made in order while the rest are copied several at a
    // time. One by one, a 20,000-file COPY spent ~11 file system round trips per file in a row.
    const inFlight = new Set<Promise<void>>();
    let failed: { error: unknown } | undefined;
    let lastYield = Date.now();
    try {
      for (const entry of source.entries) {
        if (failed) break;
        // Entries mostly copy with synchronous calls: let timers, signals and progress run now and then.
        if (Date.now() - lastYield >= yieldEveryMs) {
          await new Promise((resolve) => setImmediate(resolve));
          lastYield = Date.now();
        }
        context.signal.throwIfAborted();
        if (entry.type === 'dir' || entry.rel === '') {
          await copyEntry(entry);
          continue;
        }
        while (inFlight.size >= copyParallelism) await Promise.race(inFlight);
        const job: Promise<void> = copyEntry(entry)
          .catch((error: unknown) => {
            failed ??= { error };
          })
          .finally(() => inFlight.delete(job));
        inFlight.add(job);
      }
    } finally {
      // Nothing may still be writing when the caller packs or discards the rootfs.
      await Promise.all(inFlight);
    }
    if (failed) throw failed.error;
    // Directory times last: creating their contents changed them.
    for (const [path, atime, mtime] of dirTimes.reverse()) utimesSync(path, atime, mtime);
  }
}

/**
 * Makes a new node at `to` with `make`; when something is already there (EEXIST), removes it and
 * makes the node again. One call for the usual fresh destination instead of a removal first.
 */
function replacing<T>(to: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  rmSync(to, { recursive: true, force: true });
  return make();
}

function parentOf(rel: string): string {
  const parent = posix.dirname(rel);
  return parent === '.' ? '' : parent;
}

/** A top-level source that is a symlink is copied as what it points to (inside the source root). */
async function resolveSource(sourceRoot: string, path: string, isItem: boolean): Promise<string> {
  return isItem ? resolveInRoot(sourceRoot, path, true) : posix.join(sourceRoot, path);
}

async function isDirectory(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/**
 * Creates `path` and its missing parents inside the rootfs: root-owned 0755 like Docker, or with
 * `--chown`'s owner and `--chmod`'s mode when given. Existing directories are left alone.
 */
async function ensureDirectory(
  rootfs: string,
  path: string,
  owner: Ownership | undefined,
  mode: ((mode: number, isDir: boolean) => number) | undefined,
): Promise<void> {
  const parts = posix.normalize(`/${path}`).split('/').filter(Boolean);
  let current = '/';
  for (const part of parts) {
    current = posix.join(current, part);
    const host = resolveInRoot(rootfs, current);
    const info = await lstat(host).catch(() => undefined);
    if (info?.isDirectory()) continue;
    if (info) throw new Error(`cannot copy to ${path}: ${current} is not a directory`);
    const resolved = `/${posix.relative(rootfs, host)}`;
    if (resolved !== current) {
      // `current` is a symlink (or lies below one) to a missing target: make the target with its
      // parents, as BuildKit's MkdirAll does through links (`ln -s /var/lib/x /x; WORKDIR /x`).
      await ensureDirectory(rootfs, resolved, owner, mode);
      continue;
    }
    await mkdir(host);
    await lchown(host, owner?.uid ?? 0, owner?.gid ?? 0);
    await chmodPath(host, mode ? mode(0o40755, true) : 0o755);
  }
}

async function resolveOwner(rootfs: string, user: string): Promise<Ownership> {
  // BuildKit's file ops (solver/llbsolver/file/user_linux.go readUser) take a numeric user
  // without a group as both uid and gid, unlike USER for a process (gid 0 when not in passwd).
  if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
  const ids = await resolveUser(rootfs, user);
  return { uid: ids.uid, gid: ids.gid };
}

/** WORKDIR: the directory and its parents, owned by the step's user when they are created. */
export async function makeDirectory(rootfs: string, op: MkdirOp): Promise<void> {
  const owner = op.owner ? await resolveOwner(rootfs, op.owner) : undefined;
  await ensureDirectory(rootfs, op.path, owner, undefined);
}

/** A file with given contents (COPY of a heredoc). */
export async function makeFile(rootfs: string, op: MkfileOp): Promise<void> {
  const owner = op.chown ? await resolveOwner(rootfs, op.chown) : undefined;
  await ensureDirectory(rootfs, posix.dirname(op.path), owner, undefined);
  const target = resolveInRoot(rootfs, op.path, false);
  await rm(target, { recursive: true, force: true });
  await writeFile(target, Buffer.from(op.data, 'base64'));
  await lchown(target, owner?.uid ?? 0, owner?.gid ?? 0);
  await chmodPath(target, op.mode);
}
