import { readFileSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listActiveSnapshots, removeActiveSnapshot } from './active.ts';
import { readLiveLeases } from './leases.ts';
import { pruneMemos } from './memos.ts';
import { deleteCacheRecord, listCacheRecords, type StoredCacheRecord } from './records.ts';
import { privateDirMode } from './root-modes.ts';
import { snapshotSizeFile, snapshotsDir } from './snapshots.ts';
import { scratchDir, scratchPath } from './sweep.ts';

/**
 * Disk usage and garbage collection of the build cache: records (cache key → layers), the
 * snapshot directories of their layers and the layer blobs only the cache keeps alive.
 *
 * The rules (BuildKit's `prune` and GC policy, docs/buildkitd.toml.md):
 *  - records go least recently used first (a hit bumps a record's mtime);
 *  - a snapshot goes when no remaining record, no image, no container (active.ts) and no running
 *    build needs its layer;
 *  - blobs are not removed here: the image store's GC runs afterwards and keeps what images,
 *    remaining records and running builds reference (see records.ts `cacheBlobRoots`);
 *  - nothing a running build holds (leases.ts) is touched.
 * Every deletion tolerates a concurrent one (a snapshot is renamed away atomically, then removed).
 */

/** What images use: their layers stay whatever the cache does. */
export interface ImageUsage {
  diffIds: Set<string>;
  blobs: Set<string>;
}

export interface SnapshotUsage {
  diffId: string;
  bytes: number;
  /** Used by an image (kept by prune). */
  image: boolean;
}

/** A `RUN --mount=type=cache` directory (`<root>/cache/mounts/<id>`). */
export interface CacheMountUsage {
  name: string;
  bytes: number;
  /** Its mtime: each step that mounts it touches it. */
  lastUsed: number;
}

export interface CacheUsage {
  records: StoredCacheRecord[];
  snapshots: SnapshotUsage[];
  mounts: CacheMountUsage[];
  /** Layer blobs only the cache keeps, with their sizes. */
  cacheBlobs: Map<string, number>;
  /**
   * Bytes the cache alone holds: record files, snapshots no image uses, cache-only blobs and
   * cache mounts.
   */
  bytes: number;
}

export interface PruneOptions {
  /** `-a`: every record; otherwise only records whose layers no image contains. */
  all: boolean;
  /** `--filter until=…`: only records not used for this many milliseconds. */
  olderThanMs?: number;
  /** `--keep-storage`: stop once the cache holds at most this many bytes. */
  keepBytes?: number;
}

export interface PruneResult {
  removedRecords: number;
  removedSnapshots: number;
  removedMounts: number;
  /** Bytes of records, snapshots and mounts removed, plus the cache-only blobs they left unreferenced. */
  reclaimedBytes: number;
}

/** Measures the cache. Snapshot sizes are computed once and remembered (snapshots never change). */
export async function measureCache(root: string, images: ImageUsage): Promise<CacheUsage> {
  const records = await listCacheRecords(root);
  const snapshots: SnapshotUsage[] = [];
  for (const name of await readdir(snapshotsDir(root)).catch(() => [] as string[])) {
    const dir = join(snapshotsDir(root), name);
    const diffId = readOptional(join(dir, 'diffid'));
    if (diffId === undefined) continue;
    snapshots.push({ diffId, bytes: await snapshotBytes(dir), image: images.diffIds.has(diffId) });
  }
  const cacheBlobs = new Map<string, number>();
  for (const { record } of records) {
    for (const layer of record.layers) {
      if (!images.blobs.has(layer.blob.digest)) cacheBlobs.set(layer.blob.digest, layer.blob.size);
    }
  }
  let bytes = 0;
  for (const r of records) bytes += r.bytes;
  for (const s of snapshots) if (!s.image) bytes += s.bytes;
  for (const size of cacheBlobs.values()) bytes += size;
  const mounts: CacheMountUsage[] = [];
  for (const name of await readdir(mountsDir(root)).catch(() => [] as string[])) {
    const dir = join(mountsDir(root), name);
    const info = await lstat(dir).catch(() => undefined);
    if (!info?.isDirectory()) continue;
    mounts.push({ name, bytes: await treeBytes(dir), lastUsed: info.mtimeMs });
  }
  for (const m of mounts) bytes += m.bytes;
  return { records, snapshots, mounts, cacheBlobs, bytes };
}

/** How long an unused COPY selection memo is kept. */
const memoIdleMs = 7 * 24 * 3600 * 1000;

/** Removes records (and then the snapshots nothing needs any more) by the options' rules. */
export async function pruneCache(
  root: string,
  images: ImageUsage,
  options: PruneOptions,
  now = Date.now(),
): Promise<PruneResult> {
  const usage = await measureCache(root, images);
  const leased = await readLiveLeases(root);
  const candidates = usage.records
    .filter((r) => !leased.has(r.key))
    .filter((r) => options.olderThanMs === undefined || r.lastUsed <= now - options.olderThanMs)
    .filter((r) => options.all || !r.record.layers.every((l) => images.diffIds.has(l.diffId)))
    .sort((a, b) => a.lastUsed - b.lastUsed);

  // How many records use each layer, to know what removing one record frees.
  const users = new Map<string, number>();
  for (const r of usage.records)
    for (const l of new Set(r.record.layers.map((x) => x.diffId))) {
      users.set(l, (users.get(l) ?? 0) + 1);
    }
  const snapshotSize = new Map(usage.snapshots.filter((s) => !s.image).map((s) => [s.diffId, s.bytes]));
  let bytes = usage.bytes;
  const removed: StoredCacheRecord[] = [];
  for (const r of candidates) {
    if (options.keepBytes !== undefined && bytes <= options.keepBytes) break;
    removed.push(r);
    bytes -= r.bytes;
    for (const l of new Set(r.record.layers)) {
      const left = (users.get(l.diffId) ?? 1) - 1;
      users.set(l.diffId, left);
      if (left > 0 || leased.has(l.diffId)) continue;
      bytes -= snapshotSize.get(l.diffId) ?? 0;
      bytes -= usage.cacheBlobs.get(l.blob.digest) ?? 0;
    }
  }
  for (const r of removed) await deleteCacheRecord(root, r.key);

  // Snapshots nothing needs: no image, no remaining record, no running build (leases read again:
  // a build may have taken a record and held its layers while the records were being removed).
  const needed = new Set<string>([...images.diffIds, ...(await readLiveLeases(root))]);
  for (const r of await listCacheRecords(root)) for (const l of r.record.layers) needed.add(l.diffId);
  // Containers' writable layers (active.ts) keep the layers they stand on; orphans go.
  for (const active of await listActiveSnapshots(root)) {
    if (active.orphan) await removeActiveSnapshot(root, active.key);
    else for (const p of active.parents) needed.add(p);
  }
  let removedSnapshots = 0;
  for (const s of usage.snapshots) {
    if (needed.has(s.diffId)) continue;
    if (await removeSnapshot(root, s.diffId)) removedSnapshots++;
  }
  // Cache mounts are data steps chose to keep between builds, not results: they go like records
  // (by `until`), and under `--keep-storage` only while the cache is still above it, least
  // recently used first. No build runs meanwhile (gc-lock.ts), so none is mounted.
  let removedMounts = 0;
  const idleMounts = usage.mounts
    .filter((m) => options.olderThanMs === undefined || m.lastUsed <= now - options.olderThanMs)
    .sort((a, b) => a.lastUsed - b.lastUsed);
  for (const m of idleMounts) {
    if (options.keepBytes !== undefined && bytes <= options.keepBytes) break;
    if (await removeAside(root, join(mountsDir(root), m.name))) {
      removedMounts++;
      bytes -= m.bytes;
    }
  }
  // Memos (COPY selection checksums, parsed Dockerfiles) are tiny but one is added per changed
  // input: drop the idle ones (all of them on a plain `prune -a`; the size-capped GC keeps the
  // recent ones). Losing one costs a rebuild one derivation, never a wrong result.
  const dropAllMemos = options.all && options.keepBytes === undefined && options.olderThanMs === undefined;
  await pruneMemos(root, dropAllMemos ? undefined : now - (options.olderThanMs ?? memoIdleMs));
  return {
    removedRecords: removed.length,
    removedSnapshots,
    removedMounts,
    reclaimedBytes: Math.max(0, usage.bytes - bytes),
  };
}

/** Moves the snapshot out of sight atomically, then deletes it; false if it was already gone. */
async function removeSnapshot(root: string, diffId: string): Promise<boolean> {
  const id = diffId.replace(/^sha256:/, '').slice(0, 16);
  return removeAside(root, join(snapshotsDir(root), id));
}

/** Renames `dir` into `<root>/tmp` (atomic), then deletes it; false if it was already gone. */
async function removeAside(root: string, dir: string): Promise<boolean> {
  // Owned by this process: a prune killed before the rm leaves it to the next sweep (sweep.ts).
  const trash = scratchPath(root, 'trash');
  await mkdir(scratchDir(root), { recursive: true, mode: privateDirMode });
  try {
    await rename(dir, trash);
  } catch {
    return false;
  }
  await rm(trash, { recursive: true, force: true });
  return true;
}

/**
 * A small file's text, or undefined. Synchronous: the GC reads two per snapshot, and each read
 * through the thread pool costs ~15× the read itself.
 */
function readOptional(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function mountsDir(root: string): string {
  return join(root, 'cache', 'mounts');
}

/** Disk bytes (allocated blocks) of a directory tree, cached in `<dir>/size`. */
async function snapshotBytes(dir: string): Promise<number> {
  const cached = Number.parseInt(readOptional(join(dir, snapshotSizeFile)) ?? '', 10);
  if (Number.isFinite(cached)) return cached;
  const bytes = await treeBytes(join(dir, 'fs'));
  await writeFile(join(dir, snapshotSizeFile), String(bytes)).catch(() => undefined);
  return bytes;
}

async function treeBytes(path: string): Promise<number> {
  const info = await lstat(path).catch(() => undefined);
  if (!info) return 0;
  let total = info.blocks * 512;
  if (info.isDirectory()) {
    for (const name of await readdir(path).catch(() => [] as string[]))
      total += await treeBytes(join(path, name));
  }
  return total;
}

/**
 * Parses `5GB`, `512MiB`, `100M`, `1.5g`, `2000` (bytes) as docker's `--keep-storage` does
 * (opts.MemBytes → go-units RAMInBytes): every unit is binary, `5GB` = 5 × 1024³.
 */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(i?)(b?)\s*$/i.exec(text);
  if (!m) return undefined;
  const exponent = ' kmgtp'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** exponent);
}

/** Parses a Go duration as `--filter until=` takes it: `24h`, `90m`, `1h30m`, `10s`. */
export function parseDuration(text: string): number | undefined {
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = text.trim();
  if (rest === '') return undefined;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (unit[m[2] as string] as number);
    rest = rest.slice(m[0].length);
  }
  return total;
}
