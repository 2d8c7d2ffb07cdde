import type { EntryStat, PathFingerprint } from '../../cache/index.ts';
import type { Executor } from '../../executor/index.ts';
import type { Descriptor, ImageStore } from '../../image/index.ts';
import type { Digest, Vertex } from '../graph.ts';
import type { OpRunner } from '../solve.ts';
import type { GitSourceDeps } from './git.ts';
import type { HttpTimeouts } from './http-fetch.ts';

/**
 * A vertex's result: a root filesystem as a stack of layers, base first. Each layer is a blob in
 * the image store and, once needed, a snapshot directory (see cache/snapshots.ts) named by its
 * diffID. Results are plain data, so a cache record is just this object as JSON.
 */
export interface FsResult {
  layers: LayerRecord[];
  /**
   * When this result was first made (ISO 8601). Stored in the cache record and returned unchanged
   * by every hit, so the exporter can date the image from the cache, not the clock: a fully cached
   * rebuild (here or on a builder that imported the cache) gives the same image ID.
   */
  created?: string;
}

/**
 * A cache imported with `--cache-from`: finds a result by cache key and, on a hit, copies the
 * blobs it needs into the local store before returning it (nothing else is fetched).
 */
export interface CacheSource {
  find(key: Digest): Promise<FsResult | undefined>;
}

/** The root-filesystem runner: the solver's OpRunner plus what the build needs around it. */
export interface FsRunner extends OpRunner<FsResult> {
  /**
   * Starts what the cache keys of the graph under `root` will need from outside this process (the
   * context fingerprints) and the COPY checksums built on them, so they run while the build does
   * other things (and while the keys they do not depend on are computed); keys work without it.
   */
  prefetch(root: Vertex): void;
  /** Forgets what prefetch took: after a long wait (behind a prune) it may be out of date. */
  dropPrefetched(): void;
  /** The cache key of every vertex whose key was computed, by vertex digest. */
  readonly keys: ReadonlyMap<Digest, Digest>;
  /**
   * The result recorded for a key, locally or in an imported cache (then copied in), for export;
   * undefined when there is none or its blobs are gone.
   */
  readRecord(key: Digest): Promise<FsResult | undefined>;
  /** How many steps this runner has run (cache misses); a fully cached build runs none. */
  readonly ran: number;
  /**
   * Waits for the steps' snapshots still being put in place, saves the checksum cache and releases
   * what this build held against GC.
   */
  close(): Promise<void>;
}

export interface LayerRecord {
  /** sha256 of the uncompressed layer tar: the image config's `rootfs.diff_ids` entry. */
  diffId: string;
  /** The compressed blob in the store. */
  blob: Descriptor;
  /** The digest of the vertex that made this layer; the exporter matches history entries by it. */
  step?: string;
}

/** One kept path of a source tree (the build context after .dockerignore, or a stage's rootfs). */
export interface SourceEntry {
  /** Relative to the source root, `/`-separated, no leading `./`. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** The entry's lstat as the walk saw it; the COPY checksum uses it instead of a second lstat. */
  stat: SourceStat;
}

/** See {@link RunnerDeps.fingerprintSource}: cache/'s fingerprint of a context path. */
export type SourceFingerprint = PathFingerprint;

/** The lstat fields a COPY's cache key depends on, or that say a file is unchanged. */
export type SourceStat = EntryStat;

/**
 * What the runner needs from the rest of tbuild. The solver owns this interface; the CLI wires it
 * (walking the context with .dockerignore lives in frontend/, which the solver may not import).
 */
export interface RunnerDeps {
  /** The tbuild root: snapshots, cache records and scratch space live under it. */
  root: string;
  store: ImageStore;
  executor: Executor;
  /**
   * Walks `dir`, leaving out what `excludes` (.dockerignore patterns) exclude: the kept entries in
   * walk order (paths sorted), each with its lstat.
   */
  walkSource(dir: string, excludes: string[], within?: readonly string[]): Promise<SourceEntry[]>;
  /**
   * A digest of the metadata of `path` (relative to the context `dir`, '' for all of it) and of
   * everything below it, or undefined when it cannot be taken (then the context is walked). Any
   * change a COPY could see — a file's content (through its times), mode, owner, name, link
   * target, an entry added or removed — changes it. Optional: without it every key walks.
   */
  fingerprintSource?(
    dir: string,
    excludes: string[],
    path: string,
    settleMs: number,
  ): Promise<SourceFingerprint | undefined>;
  /** Compiles `COPY --exclude` patterns (.dockerignore syntax) into a predicate on relative paths. */
  excludeMatcher(patterns: string[]): (path: string) => boolean;
  /**
   * `--network` for RUN steps that do not say otherwise; `none` also wins over a step's own
   * `RUN --network=host` (see stepNetwork in exec.ts).
   */
  defaultNetwork: 'host' | 'none';
  /** Imported caches (`--cache-from`), asked in order after the local cache misses. */
  cacheSources?: CacheSource[];
  /**
   * `--secret id=…` values by id, for `RUN --mount=type=secret`. They reach the step as a file or
   * env entry only: never the op, the cache key, a layer or the history.
   */
  secrets?: ReadonlyMap<string, Buffer>;
  /**
   * `--ssh id=…` agents by id: the host path of each agent's socket, for `RUN --mount=type=ssh`.
   * The step gets a socket of its own that relays to it (ssh-forward.ts).
   */
  sshAgents?: ReadonlyMap<string, string>;
  /**
   * SOURCE_DATE_EPOCH in seconds: every layer a step makes (RUN, COPY/ADD, heredocs, WORKDIR) is
   * packed with its mtimes clamped to it, BuildKit's `rewrite-timestamp=true`. Base image layers
   * are kept as pulled, as BuildKit's exporter leaves them.
   *
   * The clamp happens when the layer is packed, not at export, so the epoch is part of the cache
   * key of every layer-making step: a layer cached by a build without it (or with another epoch)
   * is never handed to a build with it, and its cache record holds the clamped blob, which
   * `--cache-to` exports as is. (Rewriting at export, as BuildKit does, would need a second
   * pack of every layer on each export; keying costs only a rebuild when the epoch changes.)
   */
  epoch?: number;
  /** Limits of `ADD <url>` requests (solver/ops/http-fetch.ts); its defaults when absent. */
  httpTimeouts?: HttpTimeouts;
  /** `ADD <git URL>`: resolving a ref and checking a commit out (source/, wired by the CLI). */
  git?: GitSourceDeps;
}
