/** Shared helpers for the layer tests: temp dirs, a full metadata walk, packing to a file. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { getAttribute, listAttributes } from '@napi-rs/xattr';
import { type LayerDigests, type LayerSource, type PackOptions, packLayer } from '../../image/index.ts';
import { needRoot, skipReason } from '../needs.ts';

/**
 * Root runs the ownership, device-node and trusted-xattr cases too; others run the rest. Under CI
 * (root) a non-root run fails instead of silently testing less (test/needs.ts).
 */
export const privileged = !skipReason(needRoot('the ownership, device and xattr cases of the layer tests'));

/** A fresh temp dir, removed by the returned cleanup. */
export async function makeTempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `tbuild-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Runs a command, throwing with its stderr when it fails. Returns stdout. */
export function run(command: string, args: string[], options: { cwd?: string } = {}): string {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, LC_ALL: 'C.UTF-8' },
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result.stdout;
}

/** Packs `source` into `file`, returning the digests. */
export async function packToFile(
  source: LayerSource,
  file: string,
  options: PackOptions = {},
): Promise<LayerDigests> {
  const packed = packLayer(source, options);
  await pipeline(packed.stream, createWriteStream(file));
  return packed.digests;
}

/** Everything the layer format must carry for one path. */
export interface NodeRecord {
  type: string;
  mode: string;
  uid: number;
  gid: number;
  mtime: number;
  size?: number;
  sha256?: string;
  linkname?: string;
  rdev?: string;
  xattrs: Record<string, string>;
  /** For multiply-linked files: the lexically first path of the inode's group inside the tree. */
  linkGroup?: string;
}

/**
 * A full metadata walk of `root` (the root itself excluded): type, mode, owner, mtime (seconds),
 * size and content hash, link target, device numbers, xattrs (hex) and hardlink grouping.
 */
export async function snapshotTree(root: string, options: { skipXattr?: (name: string) => boolean } = {}) {
  const records = new Map<string, NodeRecord>();
  const inodes = new Map<string, string[]>();
  async function walk(dir: string, rel: string): Promise<void> {
    for (const name of (await readdir(dir)).sort()) {
      const abs = join(dir, name);
      const path = rel ? `${rel}/${name}` : name;
      const st = await lstat(abs, { bigint: true });
      const xattrs: Record<string, string> = {};
      for (const key of (await listAttributes(abs)).sort()) {
        if (options.skipXattr?.(key)) continue;
        xattrs[key] = (await getAttribute(abs, key))?.toString('hex') ?? '';
      }
      const record: NodeRecord = {
        type: typeOf(st),
        mode: (st.mode & 0o7777n).toString(8),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: Number(st.mtimeNs / 1_000_000_000n),
        xattrs,
      };
      if (st.isFile()) {
        record.size = Number(st.size);
        record.sha256 = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
      }
      if (st.isSymbolicLink()) record.linkname = await readlink(abs);
      if (st.isCharacterDevice() || st.isBlockDevice()) record.rdev = st.rdev.toString(16);
      records.set(path, record);
      if (!st.isDirectory() && st.nlink > 1n) {
        const key = `${st.dev}:${st.ino}`;
        inodes.set(key, [...(inodes.get(key) ?? []), path]);
      }
      if (st.isDirectory()) await walk(abs, path);
    }
  }
  await walk(root, '');
  for (const group of inodes.values()) {
    if (group.length < 2) continue;
    const first = [...group].sort()[0] as string;
    for (const path of group) (records.get(path) as NodeRecord).linkGroup = first;
  }
  return Object.fromEntries(records);
}

function typeOf(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'other';
}

/** A readable stream of a file (for applyLayer/listLayer). */
export function readStream(file: string) {
  return createReadStream(file);
}
