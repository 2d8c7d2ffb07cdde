import { createHash } from 'node:crypto';
import { ChecksumCache, racyWindowMs, readSelectionMemo, rememberSelection } from './checksums.ts';
import { type ChecksumSelection, checksumSelection } from './selection-checksum.ts';

/**
 * Content hashing for cache keys (BuildKit: cache/contenthash), one per build: the content
 * checksum of a selection of files, and of what a COPY reads from the build context by way of
 * the context's fingerprints. Layers of memory below it, each safe by the racy rule of
 * checksums.ts: a COPY's checksum by the fingerprints of the context paths it can read (no walk);
 * a selection's checksum by its files' stat tuples (no read); a file's digest by its stat tuple
 * (one read, ever). The context walk and fingerprint belong to the frontend, which cache/ may not
 * import: the caller passes them in (the fingerprint as an option, the walk as `select`).
 */
export interface ContentHasher {
  /** The content checksum of `selection`, whose paths are relative to `root`. */
  checksum(root: string, selection: ChecksumSelection): Promise<string>;
  /**
   * The content checksum of what a COPY reads from the context. Fast path: the context paths it
   * can read are fingerprinted (no walk here) and the checksum comes from the memo of earlier
   * ones. Otherwise `select(within)` walks those paths — all of the context when `within` is
   * undefined, as it is when a fingerprint cannot be taken (e.g. for a symlink on the way) —
   * and the checksum is computed and remembered. `within` comes back too: the part of the context
   * the COPY may walk again to copy, so copying sees what the key saw.
   */
  contextChecksum(
    copy: ContextCopy,
    select: (within: readonly string[] | undefined) => Promise<ChecksumSelection>,
  ): Promise<{ checksum: string; within: readonly string[] | undefined }>;
  /** Forgets the fingerprints taken so far: after a long wait (behind a prune) they may be stale. */
  forgetFingerprints(): void;
  /** Saves what the checksum cache learnt (at the end of the build). */
  save(): Promise<void>;
}

/** What a COPY from the context reads: everything its checksum's memo key derives from. */
export interface ContextCopy {
  /** The context directory and its .dockerignore patterns. */
  dir: string;
  ignore: string[];
  /** The COPY's sources and `--exclude` patterns. */
  sources: readonly string[];
  excludes: readonly string[];
  /** The context paths the sources can select from ('' = all of it; the solver's copySourceScope). */
  scope: readonly string[];
}

/** A digest of the metadata of a context path and everything below it (frontend's find(1) print). */
export interface PathFingerprint {
  readonly digest: string;
  /** No entry changed within the `settleMs` asked for before the fingerprint began. */
  readonly settled: boolean;
}

/**
 * Fingerprints `path` (relative to the context `dir`, '' for all of it), or undefined when it
 * cannot be taken. Any change a COPY could see must change it (cache/README.md, "Context
 * fingerprints"); `settleMs` is the racy window.
 */
export type FingerprintPath = (
  dir: string,
  ignore: string[],
  path: string,
  settleMs: number,
) => Promise<PathFingerprint | undefined>;

/**
 * What a memo key derives from, besides the fingerprints. Bumped when what a checksum covers
 * changes; the value the solver's cache key version had when the memo key moved here, so memos
 * written before the move are still found.
 */
const memoVersion = 'tbuild.cache.v1';

/** The content hasher of one build on `root`; without `fingerprint`, every COPY key walks. */
export function createContentHasher(root: string, fingerprint?: FingerprintPath): ContentHasher {
  const prints = new Map<string, Promise<PathFingerprint | undefined>>();
  let checksums: Promise<ChecksumCache> | undefined;
  const checksumCache = () => {
    checksums ??= ChecksumCache.open(root);
    return checksums;
  };

  const fingerprintOf = (copy: ContextCopy, path: string) => {
    const id = `${copy.dir}\0${copy.ignore.join('\n')}\0${path}`;
    let print = prints.get(id);
    if (!print) {
      print = fingerprint?.(copy.dir, copy.ignore, path, racyWindowMs) ?? Promise.resolve(undefined);
      prints.set(id, print);
    }
    return print;
  };

  /**
   * The memo key of a COPY's content checksum from the fingerprints of the context paths it can
   * read: undefined when one cannot be taken. Everything the checksum derives from is in it: the
   * context and its .dockerignore, the sources and `--exclude`s, and the paths' fingerprints.
   */
  const memoKey = async (copy: ContextCopy): Promise<{ digest: string; settled: boolean } | undefined> => {
    const taken = await Promise.all(copy.scope.map((path) => fingerprintOf(copy, path)));
    const found: PathFingerprint[] = [];
    for (const print of taken) {
      if (print === undefined) return undefined;
      found.push(print);
    }
    // Canonical JSON (keys sorted, as the solver's digestOf made it before the key moved here).
    const text = JSON.stringify({
      dir: copy.dir,
      excludes: copy.excludes,
      ignore: copy.ignore,
      memo: 'copy-content',
      prints: copy.scope.map((path, i) => [path, found[i]?.digest]),
      sources: copy.sources,
      version: memoVersion,
    });
    return {
      digest: `sha256:${createHash('sha256').update(text).digest('hex')}`,
      settled: found.every((print) => print.settled),
    };
  };

  const hasher: ContentHasher = {
    checksum: (dir, selection) => checksumSelection(root, dir, selection, checksumCache),

    async contextChecksum(copy, select) {
      const memo = await memoKey(copy);
      const within = memo ? copy.scope : undefined;
      const remembered = memo ? await readSelectionMemo(root, memo.digest) : undefined;
      if (remembered) return { checksum: remembered, within };
      const checksum = await hasher.checksum(copy.dir, await select(within));
      // Remembered only when no entry changed within the racy window before the fingerprint (the
      // rule of the selection memos); any change after it makes a different fingerprint.
      if (memo?.settled) await rememberSelection(root, memo.digest, checksum);
      return { checksum, within };
    },

    forgetFingerprints() {
      prints.clear();
    },

    async save() {
      if (checksums) await (await checksums).save();
    },
  };
  return hasher;
}
