import type { Executor } from '../../executor/index.ts';
import type { Descriptor, ImageStore } from '../../image/index.ts';

/**
 * A vertex's result: a root filesystem as a stack of layers, base first. Each layer is a blob in
 * the image store and, once needed, a snapshot directory (see cache/snapshots.ts) named by its
 * diffID. Results are plain data, so a cache record is just this object as JSON.
 */
export interface FsResult {
  layers: LayerRecord[];
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
}

/**
 * What the runner needs from the rest of tbuild. The solver owns this interface; the CLI wires it
 * (walking the context with .dockerignore lives in frontend/, which the solver may not import).
 */
export interface RunnerDeps {
  /** The tbuild root: snapshots, cache records and scratch space live under it. */
  root: string;
  store: ImageStore;
  executor: Executor;
  /** Walks `dir`, leaving out what `excludes` (.dockerignore patterns) exclude; paths sorted. */
  walkSource(dir: string, excludes: string[]): AsyncIterable<SourceEntry>;
  /** Compiles `COPY --exclude` patterns (.dockerignore syntax) into a predicate on relative paths. */
  excludeMatcher(patterns: string[]): (path: string) => boolean;
  /** `--network` for RUN steps that do not say otherwise. */
  defaultNetwork: 'host' | 'none';
}
