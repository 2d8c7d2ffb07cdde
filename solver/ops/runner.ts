import type { ImageConfig } from '../../image/index.ts';
import { StepError } from '../errors.ts';
import type { Digest, Vertex } from '../graph.ts';
import type { JobContext } from '../solve.ts';
import { createCacheKeys } from './cache-keys.ts';
import { createContextTrees } from './context-trees.ts';
import { copyIntoRootfs, makeDirectory, makeFile } from './copy.ts';
import { resolveCopySources } from './copy-sources.ts';
import { runExec, stepNetwork } from './exec.ts';
import { errorText, rootfsError } from './failures.ts';
import { createGitSource } from './git.ts';
import { createHttpSource } from './http.ts';
import { createMountState } from './mounts.ts';
import { createRecordPolicy } from './record-policy.ts';
import { commitWritable, discardWritable, mountReadonly, mountWritable, settleCommits } from './rootfs.ts';
import type { FsResult, FsRunner, LayerRecord, RunnerDeps, SourceEntry } from './types.ts';

/**
 * The OpRunner for root filesystems: each op kind of solver/graph.ts made real over snapshots,
 * overlay mounts, runc and the image store. Keys come from cache-keys.ts (content hashing from
 * cache/), hits and records from record-policy.ts; this file runs the ops.
 */
export function createFsRunner(deps: RunnerDeps): FsRunner {
  const contextTree = createContextTrees(deps.walkSource);
  const records = createRecordPolicy(deps);
  // `ADD <url>`: revalidated only while its result is cached (and then held for this build).
  const http = createHttpSource({
    root: deps.root,
    ...(deps.httpTimeouts ? { timeouts: deps.httpTimeouts } : {}),
    cached: async (key) => (await records.read(key)) !== undefined,
  });
  const git = createGitSource(deps.root, deps.git);
  const keys = createCacheKeys(deps, contextTree, http, git);
  const mountState = createMountState();
  let ran = 0;

  return {
    prefetch: (root) => keys.prefetch(root),
    dropPrefetched: () => keys.dropPrefetched(),
    cacheKey: (vertex, inputKeys, signal) => keys.cacheKey(vertex, inputKeys, signal),
    keys: keys.keys,
    readRecord: (key) => records.read(key),
    get ran() {
      return ran;
    },

    async lookup(key, vertex) {
      const record = await records.lookup(key);
      // A hit needs no body: a download made while keying goes.
      if (record && vertex.op.type === 'http') await http.discard(vertex.digest);
      if (!record && vertex.op.type === 'exec') {
        // This RUN will run once its inputs are made: its network can be set up meanwhile.
        deps.executor.prepare?.(stepNetwork(vertex.op, deps.defaultNetwork));
      }
      return record;
    },

    async run(vertex, inputs, key, job) {
      ran++;
      return records.produce(key, job, () => runOp(vertex, inputs, job));
    },

    async close() {
      try {
        // The last steps' unmounts and snapshots, finishing while the image was exported.
        await settleCommits();
      } finally {
        try {
          await keys.close();
          await http.close();
        } finally {
          await records.release();
        }
      }
    },
  };

  async function runOp(vertex: Vertex, inputs: FsResult[], job: JobContext): Promise<FsResult> {
    const op = vertex.op;
    switch (op.type) {
      case 'scratch':
      case 'context':
        return { layers: [] };
      case 'image':
        return imageLayers(op.manifest);
      case 'exec':
        return runExec(deps, mountState, vertex, op, inputs, job);
      case 'copy':
      case 'mkdir':
      case 'mkfile':
      case 'http':
      case 'git':
        return runFileOp(vertex, inputs, job);
    }
  }

  async function imageLayers(manifestDigest: Digest): Promise<FsResult> {
    const manifest = await deps.store.readManifest(manifestDigest);
    const config = JSON.parse((await deps.store.readBlob(manifest.config.digest)).toString()) as ImageConfig;
    const layers: LayerRecord[] = manifest.layers.map((blob, i) => ({
      diffId: config.rootfs.diff_ids[i] as string,
      blob,
    }));
    return { layers };
  }

  async function runFileOp(vertex: Vertex, inputs: FsResult[], job: JobContext): Promise<FsResult> {
    const op = vertex.op;
    // A source (http, git) starts from an empty root filesystem.
    const base = inputs[0] ?? { layers: [] };
    const rootfs = await mountWritable(deps.root, deps.store, base).catch((error: unknown) => {
      throw rootfsError(vertex, error, deps.root);
    });
    let release: (() => Promise<void>) | undefined;
    try {
      job.signal.throwIfAborted();
      if (op.type === 'mkdir') await makeDirectory(rootfs.path, op);
      else if (op.type === 'mkfile') await makeFile(rootfs.path, op);
      else if (op.type === 'http') await http.writeInto(vertex.digest, op, rootfs.path, job.signal);
      else if (op.type === 'git') await git.writeInto(vertex.digest, op, rootfs.path, job.signal);
      else if (op.type === 'copy') {
        const sourceVertex = vertex.inputs[1] as Vertex;
        let sourceRoot: string;
        let tree: SourceEntry[];
        if (sourceVertex.op.type === 'context') {
          sourceRoot = sourceVertex.op.dir;
          tree = await contextTree(sourceVertex.op, keys.copyScope(vertex));
        } else {
          const view = await mountReadonly(deps.root, deps.store, inputs[1] as FsResult);
          release = view.release;
          sourceRoot = view.path;
          tree = await deps.walkSource(sourceRoot, []);
        }
        const selected = resolveCopySources(
          tree,
          op.sources,
          deps.excludeMatcher(op.excludes),
          vertex,
          sourceRoot,
        );
        await copyIntoRootfs(rootfs.path, sourceRoot, selected, op, {
          fromContext: sourceVertex.op.type === 'context',
          signal: job.signal,
        });
      }
      await release?.();
      release = undefined;
      // A file op leaves no process behind that could still write into the mount. The epoch is
      // for layers that reach an image: a source's (http, git) mtimes stay as fetched (its key
      // has no epoch; the copy that uses it clamps).
      const source = op.type === 'http' || op.type === 'git';
      return await commitWritable(deps.root, deps.store, rootfs, base, vertex.digest, {
        quiescent: true,
        ...(deps.epoch !== undefined && !source ? { epoch: deps.epoch } : {}),
      });
    } catch (error) {
      await release?.().catch(() => {});
      await discardWritable(rootfs);
      if (error instanceof StepError || job.signal.aborted) throw error;
      throw new StepError(vertex.name, vertex.location, errorText(error, deps.root), [], error);
    }
  }
}
