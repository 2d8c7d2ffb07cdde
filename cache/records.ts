import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, utimesSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurableSync } from '../files.ts';
import { readLiveLeases } from './leases.ts';
import { privateDirMode } from './root-modes.ts';
import { scratchFileSync } from './sweep.ts';

/**
 * The build cache index: cache key → a small JSON record (the layers a step produced). Records are
 * written to a temp file, fsynced and renamed, so readers see a whole record or none, and two
 * processes writing the same key both leave a valid one (the same key means the same result).
 */
export function cacheRecordPath(root: string, key: string): string {
  return join(root, 'cache', 'keys', `${key.replace(/^sha256:/, '')}.json`);
}

// Records are small JSON files read and written on every step of every build: synchronous calls,
// since through the thread pool each open, read, write, fsync and close is a round trip that costs
// more than the call (~0.3 ms each against ~20 µs).

export async function readCacheRecord<T>(root: string, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(readFileSync(cacheRecordPath(root, key), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function writeCacheRecord(root: string, key: string, record: unknown): Promise<void> {
  const path = cacheRecordPath(root, key);
  mkdirSync(join(root, 'cache', 'keys'), { recursive: true, mode: privateDirMode });
  // The temp is in <root>/tmp under this process's name: a build killed before the rename leaves
  // it for the next command's sweep (issue 12: a `<key>.json.<random>.tmp` beside the records
  // stayed for ever).
  const temp = scratchFileSync(root, 'record');
  writeFileDurableSync(temp, JSON.stringify(record));
  renameSync(temp, path);
}

/**
 * What the cache's own housekeeping (prune, GC roots, export) needs to know of a record; the
 * solver's records (solver/ops/types.ts FsResult) have this shape and more.
 */
export interface CacheRecordLayers {
  layers: { diffId: string; blob: { digest: string; size: number } }[];
  /** When the result was first made (ISO 8601); kept by every later hit. */
  created?: string;
}

/** A record on disk with its last use (the file's mtime, bumped on every hit) and file size. */
export interface StoredCacheRecord {
  key: string;
  record: CacheRecordLayers;
  lastUsed: number;
  bytes: number;
}

/** Marks a record as just used, for least-recently-used collection. */
export async function touchCacheRecord(root: string, key: string): Promise<void> {
  const now = new Date();
  try {
    utimesSync(cacheRecordPath(root, key), now, now);
  } catch {
    // gone meanwhile: nothing to mark
  }
}

export async function deleteCacheRecord(root: string, key: string): Promise<void> {
  await rm(cacheRecordPath(root, key), { force: true });
}

/** Every readable record (temp files and damaged records are skipped). */
export async function listCacheRecords(root: string): Promise<StoredCacheRecord[]> {
  const dir = join(root, 'cache', 'keys');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: StoredCacheRecord[] = [];
  // Synchronous: hundreds of small reads through the thread pool cost ~0.3 ms each in round
  // trips, ~20 µs each here; the automatic GC lists every record after each build that grew.
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    const path = join(dir, name);
    try {
      const info = statSync(path);
      const record = JSON.parse(readFileSync(path, 'utf8')) as CacheRecordLayers;
      if (!Array.isArray(record.layers)) continue;
      out.push({ key: `sha256:${name.slice(0, -5)}`, record, lastUsed: info.mtimeMs, bytes: info.size });
    } catch {
      // removed meanwhile or half-written by a tool other than writeCacheRecord: not a record
    }
  }
  return out;
}

/**
 * The blob digests the build cache keeps alive: every record's layers and whatever live builds
 * hold. The image store's garbage collector adds these to its roots, so cache-only layers (an
 * intermediate step, a stage no image contains) survive `fsck` and image removal.
 */
export async function cacheBlobRoots(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const { record } of await listCacheRecords(root))
    for (const l of record.layers) out.add(l.blob.digest);
  for (const name of await readLiveLeases(root)) if (name.startsWith('sha256:')) out.add(name);
  return out;
}
