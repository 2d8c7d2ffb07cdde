import { statfs } from 'node:fs/promises';
import {
  claimKey,
  createCacheLease,
  createContentHasher,
  readCacheRecord,
  touchCacheRecord,
  writeCacheRecord,
} from '../../cache/index.ts';
import { isNoSpaceError, noSpaceMessage } from '../../errors.ts';
import type { ImageConfig } from '../../image/index.ts';
import { StepError } from '../errors.ts';
import { type Digest, digestOf, type Op, opIdentity, type Vertex } from '../graph.ts';
import type { JobContext } from '../solve.ts';
import { copyIntoRootfs, makeDirectory, makeFile } from './copy.ts';
import { copySourceScope, resolveCopySources } from './copy-sources.ts';
import { createMountState, prepareMounts } from './mounts.ts';
import { commitWritable, discardWritable, mountReadonly, mountWritable, settleCommits } from './rootfs.ts';
import type { FsResult, FsRunner, LayerRecord, RunnerDeps, SourceEntry } from './types.ts';

/** Bumped when the meaning of a cache key or record changes, so old records are not misread. */
const cacheVersion = 'tbuild.cache.v1';

/** How many trailing output lines a failed step shows. */
const logTailLines = 10;

/**
 * The OpRunner for root filesystems: each op kind of solver/graph.ts made real over snapshots,
 * overlay mounts, runc and the image store.
 */
export function createFsRunner(deps: RunnerDeps): FsRunner {
  const contextTrees = new Map<string, Promise<SourceEntry[]>>();
  const hasher = createContentHasher(deps.root, (dir, ignore, path, settleMs) =>
    deps.fingerprintSource ? deps.fingerprintSource(dir, ignore, path, settleMs) : Promise.resolve(undefined),
  );
  /** Each COPY's content checksum (copyContent), by vertex digest: started early by prefetch. */
  const copyContents = new Map<Digest, Promise<string>>();
  /** The part of the context each COPY reads, by vertex digest (undefined: all of it). */
  const copyScopes = new Map<Digest, readonly string[] | undefined>();
  const mountState = createMountState();
  const keys = new Map<Digest, Digest>();
  let ran = 0;
  // Whatever this build hits or records stays safe from a concurrent prune/GC until close().
  const lease = createCacheLease(deps.root);
  const hold = (key: Digest, result: FsResult) =>
    lease.hold([key, ...result.layers.flatMap((l) => [l.diffId, l.blob.digest])]);

  /** A local or imported record (made local, blobs included), held against GC; or undefined. */
  const readRecord = async (key: Digest): Promise<FsResult | undefined> => {
    // Held before reading, so a concurrent prune that has not listed leases yet keeps the record.
    await lease.hold([key]);
    let record = await readLocal(key);
    if (!record) {
      for (const source of deps.cacheSources ?? []) {
        record = await source.find(key);
        if (!record) continue;
        // An imported hit becomes a local record: the next build needs no import.
        await hold(key, record);
        await writeCacheRecord(deps.root, key, record);
        break;
      }
    }
    if (record) await hold(key, record);
    return record;
  };

  /**
   * A record another build on this root made while this one ran. Only those: an older record
   * would have been a hit (a step ignoring the cache never comes here).
   */
  const startedAt = Date.now();
  const readConcurrent = async (key: Digest): Promise<FsResult | undefined> => {
    const record = await readLocal(key);
    return record?.created !== undefined && Date.parse(record.created) >= startedAt ? record : undefined;
  };

  /** A local record whose blobs are all present, or undefined. */
  const readLocal = async (key: Digest): Promise<FsResult | undefined> => {
    const record = await readCacheRecord<FsResult>(deps.root, key);
    if (!record) return undefined;
    // A record whose blobs were garbage-collected is a miss, not a broken build.
    for (const layer of record.layers) {
      if (!(await deps.store.hasBlob(layer.blob.digest))) return undefined;
    }
    return record;
  };

  /**
   * The kept entries of a context (or of the paths `within` it), walked once per build and shared
   * by every COPY that reads the same part; a walk of the whole context serves every part.
   */
  const contextTree = (
    op: Extract<Op, { type: 'context' }>,
    within?: readonly string[],
  ): Promise<SourceEntry[]> => {
    const id = `${op.dir}\0${op.excludes.join('\n')}`;
    const part = within === undefined ? id : `${id}\0${within.join('\0')}`;
    let tree = contextTrees.get(id) ?? contextTrees.get(part);
    if (!tree) {
      tree = deps.walkSource(op.dir, op.excludes, within);
      contextTrees.set(part, tree);
    }
    return tree;
  };

  /**
   * The content checksum of what a COPY reads from the context (see ContentHasher.contextChecksum:
   * by the context's fingerprints when it can, else by a walk of what it reads).
   */
  const copyContent = async (
    vertex: Vertex,
    op: Extract<Op, { type: 'copy' }>,
    source: Extract<Op, { type: 'context' }>,
  ): Promise<string> => {
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

  const contentOf = (
    vertex: Vertex,
    op: Extract<Op, { type: 'copy' }>,
    source: Extract<Op, { type: 'context' }>,
  ): Promise<string> => {
    let content = copyContents.get(vertex.digest);
    if (!content) {
      content = copyContent(vertex, op, source);
      copyContents.set(vertex.digest, content);
    }
    return content;
  };

  return {
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

    async cacheKey(vertex, inputKeys) {
      const op = vertex.op;
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
        const content: string[] = [];
        for (const mount of op.mounts) {
          const source = mount.type === 'bind' ? vertex.inputs[mount.input]?.op : undefined;
          if (mount.type !== 'bind' || source?.type !== 'context') continue;
          const prefix = mount.source.replace(/^\/+|\/+$/g, '');
          const entries = (await contextTree(source)).filter(
            (e) => prefix === '' || e.path === prefix || e.path.startsWith(`${prefix}/`),
          );
          const selected = [{ entries: entries.map((e) => ({ src: e.path, stat: e.stat })) }];
          content.push(await hasher.checksum(source.dir, selected));
        }
        if (content.length > 0) parts.mountContent = content;
      }
      const key = digestOf(parts);
      keys.set(vertex.digest, key);
      return key;
    },

    async lookup(key, vertex) {
      const record = await readRecord(key);
      if (record) await touchCacheRecord(deps.root, key);
      else if (vertex.op.type === 'exec') {
        // This RUN will run once its inputs are made: its network can be set up meanwhile.
        deps.executor.prepare?.(stepNetwork(vertex.op, deps.defaultNetwork));
      }
      return record;
    },

    async run(vertex, inputs, key, job) {
      ran++;
      const make = async (): Promise<FsResult> => {
        const output = await runOp(vertex, inputs, job);
        const result: FsResult = { ...output, created: new Date().toISOString() };
        await hold(key, result);
        await writeCacheRecord(deps.root, key, result);
        return result;
      };
      // `--no-cache` (or its stage filter): made here, never taken from another build.
      if (job.ignoreCache) return make();
      // Another build on this root making the same step: wait for it and take its result.
      let claim = await claimKey(deps.root, key, job.signal);
      while (!claim) {
        const made = await readConcurrent(key);
        if (made) {
          await hold(key, made);
          return made;
        }
        claim = await claimKey(deps.root, key, job.signal);
      }
      try {
        // The claim may have come right after another build finished this step (between our
        // lookup and our claim): its record is written before its claim goes, so look again.
        const made = await readConcurrent(key);
        if (made) {
          await hold(key, made);
          return made;
        }
        return await make();
      } finally {
        await claim.release();
      }
    },

    keys,
    readRecord,
    get ran() {
      return ran;
    },

    async close() {
      try {
        // The last steps' unmounts and snapshots, finishing while the image was exported.
        await settleCommits();
      } finally {
        await hasher.save();
        await lease.release();
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
        return runExec(vertex, op, inputs, job);
      case 'copy':
      case 'mkdir':
      case 'mkfile':
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

  async function runExec(
    vertex: Vertex,
    op: Extract<Op, { type: 'exec' }>,
    inputs: FsResult[],
    job: JobContext,
  ): Promise<FsResult> {
    const base = inputs[0] as FsResult;
    const mounts = await prepareMounts(deps, mountState, vertex, op, inputs);
    const rootfs = await mountWritable(deps.root, deps.store, base).catch(async (error: unknown) => {
      await mounts.release();
      throw rootfsError(vertex, error, deps.root);
    });
    const tail = createTail(logTailLines);
    try {
      const network = stepNetwork(op, deps.defaultNetwork);
      const decoders = { out: new TextDecoder(), err: new TextDecoder() };
      const env = [...op.env, ...(op.proxyEnv ?? []), ...mounts.env];
      const { exitCode } = await deps.executor.run(
        rootfs.path,
        mounts.mounts,
        {
          args: op.args,
          env,
          cwd: op.cwd,
          user: op.user,
          network,
          ...(op.security === 'insecure' ? { security: 'insecure' as const } : {}),
        },
        {
          stdout: (chunk) => {
            const text = decoders.out.decode(chunk, { stream: true });
            tail.push(text);
            job.log(1, text);
          },
          stderr: (chunk) => {
            const text = decoders.err.decode(chunk, { stream: true });
            tail.push(text);
            job.log(2, text);
          },
        },
        job.signal,
      );
      if (exitCode !== 0) {
        // Looked at before the upper is discarded (that frees the space): a process that filled
        // the disk says so only in its own output, which the user may not read as the cause.
        const full = (await isDiskFull(deps.root)) ? `: ${noSpaceMessage(deps.root)}` : '';
        throw new StepError(
          vertex.name,
          vertex.location,
          `process "${op.args.join(' ')}" did not complete successfully: exit code: ${exitCode}${full}`,
          tail.lines(),
        );
      }
      await mounts.release();
      // Quiescent: `runc run` returns once the container's init exited, and the kernel kills
      // and reaps every other process of its pid namespace before that exit is reported.
      return await commitWritable(deps.root, deps.store, rootfs, base, vertex.digest, {
        quiescent: true,
        ...(deps.epoch !== undefined ? { epoch: deps.epoch } : {}),
      });
    } catch (error) {
      // Before the upper is discarded: runc itself can be the one that hits the full disk (its
      // pid file), and then says so only in its own words.
      const full = !(error instanceof StepError) && (await isDiskFull(deps.root));
      await mounts.release();
      await discardWritable(rootfs);
      if (error instanceof StepError || job.signal.aborted) throw error;
      const text = full ? noSpaceMessage(deps.root) : errorText(error, deps.root);
      throw new StepError(vertex.name, vertex.location, text, tail.lines(), error);
    }
  }

  async function runFileOp(vertex: Vertex, inputs: FsResult[], job: JobContext): Promise<FsResult> {
    const op = vertex.op;
    const base = inputs[0] as FsResult;
    const rootfs = await mountWritable(deps.root, deps.store, base).catch((error: unknown) => {
      throw rootfsError(vertex, error, deps.root);
    });
    let release: (() => Promise<void>) | undefined;
    try {
      job.signal.throwIfAborted();
      if (op.type === 'mkdir') await makeDirectory(rootfs.path, op);
      else if (op.type === 'mkfile') await makeFile(rootfs.path, op);
      else if (op.type === 'copy') {
        const sourceVertex = vertex.inputs[1] as Vertex;
        let sourceRoot: string;
        let tree: SourceEntry[];
        if (sourceVertex.op.type === 'context') {
          sourceRoot = sourceVertex.op.dir;
          tree = await contextTree(sourceVertex.op, copyScopes.get(vertex.digest));
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
      // A file op leaves no process behind that could still write into the mount.
      return await commitWritable(deps.root, deps.store, rootfs, base, vertex.digest, {
        quiescent: true,
        ...(deps.epoch !== undefined ? { epoch: deps.epoch } : {}),
      });
    } catch (error) {
      await release?.().catch(() => {});
      await discardWritable(rootfs);
      if (error instanceof StepError || job.signal.aborted) throw error;
      throw new StepError(vertex.name, vertex.location, errorText(error, deps.root), [], error);
    }
  }
}

/**
 * A root filesystem that could not be mounted fails the step that needed it, so the error names
 * the step and its Dockerfile line like any other step failure.
 */
function rootfsError(vertex: Vertex, error: unknown, root: string): StepError {
  if (isNoSpaceError(error))
    return new StepError(vertex.name, vertex.location, noSpaceMessage(root), [], error);
  return new StepError(
    vertex.name,
    vertex.location,
    `mounting the root filesystem: ${errorText(error)}`,
    [],
    error,
  );
}

/**
 * The network a RUN gets: its own `--network` over the build's default, except that `tbuild build
 * --network none` always wins, so a Dockerfile cannot reach out of a build its user shut off
 * (BuildKit lets `RUN --network=host` override a forced mode when network.host is granted; a
 * command-line `none` is the stronger promise). `default` is the host's until containers get
 * networks of their own.
 */
/** Whether the op's result adds a layer of its own (the others: none, or a base image's). */
function makesLayer(op: Op): boolean {
  return op.type === 'exec' || op.type === 'copy' || op.type === 'mkdir' || op.type === 'mkfile';
}

function stepNetwork(op: Extract<Op, { type: 'exec' }>, defaultNetwork: 'host' | 'none'): 'host' | 'none' {
  if (defaultNetwork === 'none' || op.network === 'default') return defaultNetwork;
  return op.network;
}

function createTail(max: number) {
  let text = '';
  return {
    push(chunk: string) {
      text += chunk;
      if (text.length > 64 * 1024) text = text.slice(-32 * 1024);
    },
    lines: () =>
      text
        .split('\n')
        .filter((line, i, all) => line !== '' || i < all.length - 1)
        .slice(-max),
  };
}

/** The error's message; a full disk in the root's words when `root` is given (issue 12, finding 9). */
function errorText(error: unknown, root?: string): string {
  if (root !== undefined && isNoSpaceError(error)) return noSpaceMessage(root);
  return error instanceof Error ? error.message : String(error);
}

/** Less than this free on the root's filesystem after a failed RUN: the disk is what failed it. */
const fullDiskSlack = 1 << 20;

async function isDiskFull(root: string): Promise<boolean> {
  const fs = await statfs(root).catch(() => undefined);
  // As root, writes go on into the reserved blocks (bfree); others stop at bavail.
  const free =
    fs === undefined
      ? Number.POSITIVE_INFINITY
      : (process.getuid?.() === 0 ? fs.bfree : fs.bavail) * fs.bsize;
  return free < fullDiskSlack;
}
