import { createContentHasher } from '../../cache/index.ts';
import { StepError } from '../errors.ts';
import {
  type ContextOp,
  type CopyOp,
  type Digest,
  digestOf,
  type Op,
  opIdentity,
  type Vertex,
} from '../graph.ts';
import type { ContextTrees } from './context-trees.ts';
import { copySourceScope, resolveCopySources } from './copy-sources.ts';
import { stepNetwork } from './exec.ts';
import { errorText } from './failures.ts';
import type { GitSource } from './git.ts';
import type { HttpSource } from './http.ts';
import type { RunnerDeps } from './types.ts';

/** Bumped when the meaning of a cache key or record changes, so old records are not misread. */
const cacheVersion = 'tbuild.cache.v1';

/** The cache keys of one build's vertices (cache/README.md, "Keys"). */
export interface CacheKeys {
  /**
   * The vertex's key from its op, its inputs' keys and, for context reads, their content; an http
   * source's from its file's name and content (http.ts), which may take a request.
   */
  cacheKey(vertex: Vertex, inputKeys: Digest[], signal: AbortSignal): Promise<Digest>;
  /** See FsRunner.prefetch: starts the COPY checksums (and their context fingerprints). */
  prefetch(root: Vertex): void;
  /** See FsRunner.dropPrefetched. */
  dropPrefetched(): void;
  /** The key of every vertex whose key was computed, by vertex digest. */
  readonly keys: ReadonlyMap<Digest, Digest>;
  /**
   * The part of the context a COPY's key read, which the copy walks again (undefined: all of
   * it), so the copy sees what the key covered.
   */
  copyScope(vertex: Vertex): readonly string[] | undefined;
  /** Saves what the content hashing learnt. */
  close(): Promise<void>;
}

export function createCacheKeys(
  deps: RunnerDeps,
  contextTree: ContextTrees,
  http: HttpSource,
  git: GitSource,
): CacheKeys {
  const hasher = createContentHasher(deps.root, (dir, ignore, path, settleMs) =>
    deps.fingerprintSource ? deps.fingerprintSource(dir, ignore, path, settleMs) : Promise.resolve(undefined),
  );
  /** Each COPY's content checksum (copyContent), by vertex digest: started early by prefetch. */
  const copyContents = new Map<Digest, Promise<string>>();
  /** The part of the context each COPY reads, by vertex digest (undefined: all of it). */
  const copyScopes = new Map<Digest, readonly string[] | undefined>();
  const keys = new Map<Digest, Digest>();

  /**
   * The content checksum of what a COPY reads from the context (see ContentHasher.contextChecksum:
   * by the context's fingerprints when it can, else by a walk of what it reads).
   */
  const copyContent = async (vertex: Vertex, op: CopyOp, source: ContextOp): Promise<string> => {
    const copy = {
      dir: source.dir,
      ignore: source.excludes,
      sources: op.sources,
      excludes: op.excludes,
      scope: copySourceScope(op.sources),
    };
    const { checksum, within } = await hasher.contextChecksum(copy, async (part) => {
      const tree = await contextTree(source, part);
      try {
        return resolveCopySources(tree, op.sources, deps.excludeMatcher(op.excludes), vertex, source.dir);
      } catch (error) {
        // A missing source is the user's error, found while computing the key: report it as the
        // step's failure, located, like BuildKit's `failed to compute cache key`.
        throw new StepError(
          vertex.name,
          vertex.location,
          `failed to compute cache key: ${errorText(error)}`,
          [],
          error,
        );
      }
    });
    // The copy walks what the key walked (or may walk, on a memo hit), so it sees what was keyed.
    copyScopes.set(vertex.digest, within);
    return checksum;
  };

  const contentOf = (vertex: Vertex, op: CopyOp, source: ContextOp): Promise<string> => {
    let content = copyContents.get(vertex.digest);
    if (!content) {
      content = copyContent(vertex, op, source);
      copyContents.set(vertex.digest, content);
    }
    return content;
  };

  /** The checksums of the context files each bind mount of a RUN shows it, like a COPY's. */
  const mountContent = async (vertex: Vertex, op: Extract<Op, { type: 'exec' }>): Promise<string[]> => {
    const content: string[] = [];
    for (const mount of op.mounts ?? []) {
      const source = mount.type === 'bind' ? vertex.inputs[mount.input]?.op : undefined;
      if (mount.type !== 'bind' || source?.type !== 'context') continue;
      const prefix = mount.source.replace(/^\/+|\/+$/g, '');
      const entries = (await contextTree(source)).filter(
        (e) => prefix === '' || e.path === prefix || e.path.startsWith(`${prefix}/`),
      );
      const selected = [{ entries: entries.map((e) => ({ src: e.path, stat: e.stat })) }];
      content.push(await hasher.checksum(source.dir, selected));
    }
    return content;
  };

  return {
    keys,

    prefetch(root) {
      const seen = new Set<Digest>();
      const visit = (vertex: Vertex) => {
        if (seen.has(vertex.digest)) return;
        seen.add(vertex.digest);
        const source = vertex.inputs[1]?.op;
        if (vertex.op.type === 'copy' && source?.type === 'context') {
          // Needs no input's key: computed while those are (a failure is the key's to report).
          void contentOf(vertex, vertex.op, source).catch(() => {});
        }
        for (const input of vertex.inputs) visit(input);
      };
      visit(root);
    },

    dropPrefetched() {
      hasher.forgetFingerprints();
      copyContents.clear();
    },

    async cacheKey(vertex, inputKeys, signal) {
      const op = vertex.op;
      if (op.type === 'http' || op.type === 'git') {
        const pending =
          op.type === 'http'
            ? http.cacheKey(vertex.digest, op, signal)
            : git.cacheKey(vertex.digest, op, signal);
        const key = await pending.catch((error: unknown) => {
          if (signal.aborted) throw error;
          throw new StepError(vertex.name, vertex.location, errorText(error), [], error);
        });
        keys.set(vertex.digest, key);
        return key;
      }
      const parts: Record<string, unknown> = { version: cacheVersion, op: opIdentity(op), inputs: inputKeys };
      // A `RUN --network=host` that `--network none` overrides runs without a network: it must not
      // take (or leave) the result of the same step run with the host's.
      if (op.type === 'exec' && op.network === 'host' && stepNetwork(op, deps.defaultNetwork) === 'none') {
        parts.network = 'none';
      }
      // The layer's mtimes are clamped to the epoch (see RunnerDeps.epoch): a different layer.
      if (deps.epoch !== undefined && makesLayer(op)) parts.epoch = deps.epoch;
      if (op.type === 'copy' && vertex.inputs[1]?.op.type === 'context') {
        // A COPY from the context depends on exactly the files it reads, not on the rest of the
        // context and not on mtimes: a fresh checkout of the same tree hits.
        parts.content = await contentOf(vertex, op, vertex.inputs[1].op);
      }
      if (op.type === 'exec' && op.mounts) {
        // A bind mount of the context depends on the files under its source, like a COPY.
        const content = await mountContent(vertex, op);
        if (content.length > 0) parts.mountContent = content;
      }
      const key = digestOf(parts);
      keys.set(vertex.digest, key);
      return key;
    },

    copyScope: (vertex) => copyScopes.get(vertex.digest),

    close: () => hasher.save(),
  };
}

/** Whether the op's result adds a layer of its own (the others: none, or a base image's). */
function makesLayer(op: Op): boolean {
  return op.type === 'exec' || op.type === 'copy' || op.type === 'mkdir' || op.type === 'mkfile';
}
