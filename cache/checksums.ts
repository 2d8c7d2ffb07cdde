import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { readMemo, writeMemo } from './memos.ts';
import { privateDirMode } from './root-modes.ts';
import { scratchFileSync } from './sweep.ts';

/**
 * The content checksum cache behind COPY cache keys (BuildKit: cache/contenthash). A file's
 * content digest is remembered under (path, size, mtime, inode, ctime): while none of those
 * changed, the file is never read again. A fresh checkout of the same tree has new inodes and
 * ctimes, so its files are read once more (that is what makes the cache safe) and then hit
 * because their digests are equal.
 *
 * "Racy" entries (git's racy-clean problem): a file changed within the timestamp granularity of
 * the moment it was hashed could keep the same stat and be missed. Entries whose mtime or ctime
 * is less than `racyWindowMs` before the hash are therefore used within this process only and
 * never persisted; a later build re-reads them once, after which they are stable.
 *
 * Persisted as `<root>/cache/checksums.json`, replaced atomically; two builds saving at once
 * simply leave one of their views (it is a cache: a lost entry costs one re-read, never a wrong
 * result, because the stat tuple is part of the key). The file is read on the first lookup, not
 * on open: a build whose COPY selections all hit their memo (below) never loads it.
 *
 * Selection memos: a COPY's whole content checksum remembered under the digest of its files' stat
 * tuples (see {@link readSelectionMemo}). A rebuild with nothing changed then costs one
 * lstat per file and one tiny file read, instead of a lookup per file in the big table. Same
 * safety argument and racy rule as the per-file entries. Stored as one small file per memo under
 * `<root>/cache/checksum-memo/` (content-addressed, so concurrent builds never conflict).
 */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

const maxEntries = 200_000;
const smallFileBytes = 256 * 1024;
/** How recent a change must be to count as racy (see the class comment); exported for callers
 *  whose memo keys come from elsewhere (the COPY fingerprints of content-hash.ts). */
export const racyWindowMs = 2000;
const fileVersion = 1;

/**
 * File content digests by stat tuple. Entries used by this process live in an LRU (bounded); the
 * persisted ones are loaded into a plain map and move into the LRU when used, which keeps opening
 * the cache of a large context cheap. Small files are read in one call, large ones streamed.
 */
export class ChecksumCache {
  readonly #path: string;
  readonly #root: string;
  readonly #racyWindowMs: number;
  readonly #lru = new LRUCache<string, { digest: string; racy: boolean }>({ max: maxEntries });
  /** Loaded from disk (on first use) and not used yet in this process. */
  #persisted = new Map<string, string>();
  #loaded: Promise<void> | undefined;
  #dirty = false;
  /** How many files were actually read (for tests and benchmarks). */
  reads = 0;

  private constructor(root: string, racyWindowMs: number) {
    this.#root = root;
    this.#path = join(root, 'cache', 'checksums.json');
    this.#racyWindowMs = racyWindowMs;
  }

  /** The checksum cache of a root; its persisted table is read when first needed. */
  static async open(root: string, options: { racyWindowMs?: number } = {}): Promise<ChecksumCache> {
    return new ChecksumCache(root, options.racyWindowMs ?? racyWindowMs);
  }

  /** Reads the persisted table (an unreadable file is an empty table). */
  async #load(): Promise<void> {
    try {
      const data = JSON.parse(await readFile(this.#path, 'utf8')) as { version?: number; entries?: unknown };
      if (data.version === fileVersion && Array.isArray(data.entries)) {
        for (const item of data.entries) {
          if (Array.isArray(item) && typeof item[0] === 'string' && typeof item[1] === 'string')
            this.#persisted.set(item[0], item[1]);
        }
      }
    } catch {
      // missing or damaged: start empty
    }
  }

  /** The sha256 (hex) of the regular file at `abs`, whose lstat is `info`. */
  async digestFile(abs: string, info: FileStat): Promise<string> {
    const key = `${abs}\0${info.size}\0${info.mtimeMs}\0${info.ino}\0${info.ctimeMs}`;
    const known = this.#lru.get(key);
    if (known) return known.digest;
    this.#loaded ??= this.#load();
    await this.#loaded;
    const stored = this.#persisted.get(key);
    if (stored !== undefined) {
      this.#persisted.delete(key);
      this.#lru.set(key, { digest: stored, racy: false });
      return stored;
    }
    const started = Date.now();
    const digest = await hashFile(abs, info.size);
    this.reads++;
    const racy = isRacy(Math.max(info.mtimeMs, info.ctimeMs), started, this.#racyWindowMs);
    this.#lru.set(key, { digest, racy });
    if (!racy) this.#dirty = true;
    return digest;
  }

  /**
   * Writes the non-racy entries back if anything new was learnt: those used by this process most
   * recently used first, then the loaded ones not used, up to the bound.
   */
  async save(): Promise<void> {
    if (!this.#dirty) return;
    await this.#loaded;
    const entries: [string, string][] = [];
    for (const [key, value] of this.#lru.entries()) if (!value.racy) entries.push([key, value.digest]);
    for (const entry of this.#persisted) {
      if (entries.length >= maxEntries) break;
      entries.push(entry);
    }
    await mkdir(join(this.#path, '..'), { recursive: true, mode: privateDirMode });
    const temp = scratchFileSync(this.#root, 'checksums'); // swept if this process is killed first
    const file = await open(temp, 'w');
    try {
      await file.writeFile(JSON.stringify({ version: fileVersion, entries }));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, this.#path);
    this.#dirty = false;
  }
}

/**
 * A memo of whole selections: `statDigest` (the digest of the root, the files' paths and their stat
 * tuples, made by the caller) → the selection's content checksum. Exported for the COPY key; see
 * the class comment for why it is safe.
 */
export async function readSelectionMemo(root: string, statDigest: string): Promise<string | undefined> {
  const text = await readMemo(root, 'checksum-memo', statDigest);
  // Missing, or cut short by a crash: a miss, never a wrong checksum.
  return text !== undefined && /^sha256:[0-9a-f]{64}$/.test(text) ? text : undefined;
}

/**
 * Remembers a selection's content checksum. `newestMs` is the newest mtime/ctime among its files:
 * a selection with a file changed within the racy window of `hashedAt` is not remembered.
 */
export async function writeSelectionMemo(
  root: string,
  statDigest: string,
  checksum: string,
  newestMs: number,
  hashedAt: number,
  windowMs = racyWindowMs,
): Promise<void> {
  if (isRacy(newestMs, hashedAt, windowMs)) return;
  await rememberSelection(root, statDigest, checksum);
}

/** Remembers a selection's checksum under a key whose inputs the caller knows are not racy. */
export async function rememberSelection(root: string, key: string, checksum: string): Promise<void> {
  await writeMemo(root, 'checksum-memo', key, checksum);
}

/** A file whose newest mtime/ctime is within `windowMs` before `at` may change unseen (racy). */
function isRacy(newestMs: number, at: number, windowMs: number): boolean {
  return newestMs > at - windowMs;
}

/**
 * The sha256 (hex) of a file's content, read directly. Small files in one synchronous read: for
 * the typical context of many small files, a stream per file (open, fstat, reads, close through
 * the thread pool) costs ~50× more.
 */
export async function hashFile(path: string, size: number): Promise<string> {
  return size <= smallFileBytes
    ? createHash('sha256').update(readFileSync(path)).digest('hex')
    : hashStream(path);
}

function hashStream(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
