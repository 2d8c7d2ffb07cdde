import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

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
 * result, because the stat tuple is part of the key).
 */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
}

const maxEntries = 200_000;
const smallFileBytes = 256 * 1024;
const defaultRacyWindowMs = 2000;
const fileVersion = 1;

/**
 * File content digests by stat tuple. Entries used by this process live in an LRU (bounded); the
 * persisted ones are loaded into a plain map and move into the LRU when used, which keeps opening
 * the cache of a large context cheap. Small files are read in one call, large ones streamed.
 */
export class ChecksumCache {
  readonly #path: string;
  readonly #racyWindowMs: number;
  readonly #lru = new LRUCache<string, { digest: string; racy: boolean }>({ max: maxEntries });
  /** Loaded from disk and not used yet in this process. */
  #persisted = new Map<string, string>();
  #dirty = false;
  /** How many files were actually read (for tests and benchmarks). */
  reads = 0;

  private constructor(path: string, racyWindowMs: number) {
    this.#path = path;
    this.#racyWindowMs = racyWindowMs;
  }

  /** Loads the persisted cache of the root (an unreadable file is an empty cache). */
  static async open(root: string, options: { racyWindowMs?: number } = {}): Promise<ChecksumCache> {
    const cache = new ChecksumCache(
      join(root, 'cache', 'checksums.json'),
      options.racyWindowMs ?? defaultRacyWindowMs,
    );
    try {
      const data = JSON.parse(await readFile(cache.#path, 'utf8')) as { version?: number; entries?: unknown };
      if (data.version === fileVersion && Array.isArray(data.entries)) {
        for (const item of data.entries) {
          if (Array.isArray(item) && typeof item[0] === 'string' && typeof item[1] === 'string')
            cache.#persisted.set(item[0], item[1]);
        }
      }
    } catch {
      // missing or damaged: start empty
    }
    return cache;
  }

  /** The sha256 (hex) of the regular file at `abs`, whose lstat is `info`. */
  async digestFile(abs: string, info: FileStat): Promise<string> {
    const key = `${abs}\0${info.size}\0${info.mtimeMs}\0${info.ino}\0${info.ctimeMs}`;
    const known = this.#lru.get(key);
    if (known) return known.digest;
    const stored = this.#persisted.get(key);
    if (stored !== undefined) {
      this.#persisted.delete(key);
      this.#lru.set(key, { digest: stored, racy: false });
      return stored;
    }
    const started = Date.now();
    // Small files in one synchronous read: for the typical context of many small files, a
    // stream per file (open, fstat, reads, close through the thread pool) costs ~50× more.
    const digest =
      info.size <= smallFileBytes
        ? createHash('sha256').update(readFileSync(abs)).digest('hex')
        : await hashStream(abs);
    this.reads++;
    const racy = Math.max(info.mtimeMs, info.ctimeMs) > started - this.#racyWindowMs;
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
    const entries: [string, string][] = [];
    for (const [key, value] of this.#lru.entries()) if (!value.racy) entries.push([key, value.digest]);
    for (const entry of this.#persisted) {
      if (entries.length >= maxEntries) break;
      entries.push(entry);
    }
    await mkdir(join(this.#path, '..'), { recursive: true });
    const temp = `${this.#path}.${randomBytes(6).toString('hex')}.tmp`;
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

function hashStream(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path, { highWaterMark: 1 << 20 })
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
