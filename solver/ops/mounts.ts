import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import {
  chmod,
  chown,
  copyFile,
  lstat,
  mkdir,
  readlink,
  rename,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import {
  mountOverlay,
  privateDirMode,
  scratchDir,
  scratchPath,
  secretScratchPath,
} from '../../cache/index.ts';
import { type ExecMount, resolveInRoot } from '../../executor/index.ts';
import { StepError } from '../errors.ts';
import type { ExecMountOp, ExecOp, Vertex } from '../graph.ts';

import { mountReadonly } from './rootfs.ts';
import { forwardSshAgent } from './ssh-forward.ts';
import type { FsResult, RunnerDeps, SourceEntry } from './types.ts';

/** The mounts of one RUN, made real; `release()` undoes them (it never throws). */
export interface PreparedMounts {
  mounts: ExecMount[];
  /** `KEY=value` entries for secrets exposed as environment variables: never in the op. */
  env: string[];
  release(): Promise<void>;
}

/** Per-build state the mounts share: which cache directories are in use, and their locks. */
export interface MountState {
  busyCaches: Map<string, number>;
  locks: Map<string, Promise<void>>;
}

export function createMountState(): MountState {
  return { busyCaches: new Map(), locks: new Map() };
}

const run = promisify(execFile);

type Deps = Pick<RunnerDeps, 'root' | 'store' | 'walkSource' | 'secrets' | 'sshAgents'>;

/**
 * Prepares `op.mounts` for a run: bind sources mounted read-only (or as a throwaway overlay when
 * writable), cache directories under `<root>/cache/mounts`, tmpfs, secrets as private files
 * outside the rootfs (so they never reach a layer) or as env entries, and ssh agents as sockets. On failure, whatever was
 * prepared is released before the error is thrown.
 */
export async function prepareMounts(
  deps: Deps,
  state: MountState,
  vertex: Vertex,
  op: ExecOp,
  inputs: FsResult[],
): Promise<PreparedMounts> {
  const releases: (() => Promise<void>)[] = [];
  const prepared: PreparedMounts = {
    mounts: [],
    env: [],
    async release() {
      for (const undo of releases.reverse()) await undo().catch(() => {});
      releases.length = 0;
    },
  };
  const scratch = async (): Promise<string> => {
    const dir = scratchPath(deps.root, 'mount');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    releases.push(() => rm(dir, { recursive: true, force: true }));
    return dir;
  };
  try {
    for (const mount of op.mounts ?? []) {
      switch (mount.type) {
        case 'bind':
          prepared.mounts.push(await prepareBind(deps, vertex, mount, inputs, scratch, releases));
          break;
        case 'cache': {
          const seed = mount.seed && (await cacheSeed(deps, vertex, mount.seed, inputs, releases));
          prepared.mounts.push(await prepareCache(deps.root, state, mount, releases, seed));
          break;
        }
        case 'tmpfs':
          prepared.mounts.push({
            type: 'tmpfs',
            target: mount.target,
            source: '',
            readonly: false,
            ...(mount.size === undefined ? {} : { size: mount.size }),
          });
          break;
        case 'ssh': {
          const agent = deps.sshAgents?.get(mount.id);
          if (agent === undefined) {
            // BuildKit's words (solver/llbsolver/mounts): the agent was not given with --ssh.
            if (mount.required)
              throw stepError(vertex, `no SSH key ${JSON.stringify(mount.id)} forwarded from the client`);
            break;
          }
          const socket = join(await secretDir(), `${randomBytes(8).toString('hex')}.sock`);
          const forwarded = await forwardSshAgent(agent, socket, mount);
          releases.push(forwarded.close);
          prepared.mounts.push({
            type: 'bind',
            target: mount.target,
            source: forwarded.path,
            readonly: true,
          });
          break;
        }
        case 'secret': {
          const value = deps.secrets?.get(mount.id);
          if (value === undefined) {
            if (mount.required) throw stepError(vertex, `secret ${mount.id}: not found`);
            break;
          }
          if (mount.env !== undefined) prepared.env.push(`${mount.env}=${value.toString('utf8')}`);
          if (mount.target !== undefined) {
            const file = join(await secretDir(), randomBytes(8).toString('hex'));
            releases.push(() => rm(file, { force: true }));
            await writeFile(file, value, { mode: 0o600 });
            await chown(file, mount.uid, mount.gid);
            await chmod(file, mount.mode);
            prepared.mounts.push({ type: 'bind', target: mount.target, source: file, readonly: true });
          }
          break;
        }
      }
    }
    return prepared;
  } catch (error) {
    await prepared.release();
    throw error;
  }
}

async function prepareBind(
  deps: Deps,
  vertex: Vertex,
  mount: Extract<ExecMountOp, { type: 'bind' }>,
  inputs: FsResult[],
  scratch: () => Promise<string>,
  releases: (() => Promise<void>)[],
): Promise<ExecMount> {
  const sourceVertex = vertex.inputs[mount.input];
  const result = inputs[mount.input];
  if (sourceVertex === undefined || result === undefined) {
    throw stepError(vertex, `mount ${mount.target}: no input ${mount.input}`);
  }
  let root: string;
  const from = sourceVertex.op;
  if (from.type === 'context') {
    if (from.excludes.length === 0) root = from.dir;
    else {
      // The context as the build sees it: what .dockerignore excludes must not be visible.
      root = await scratch();
      await copyKept(deps, from.dir, from.excludes, mount.source, root);
    }
  } else {
    const view = await mountReadonly(deps.root, deps.store, result);
    releases.push(view.release);
    root = view.path;
  }
  // Resolved inside the source root, as the container would: links cannot lead out of it.
  const host = resolveInRoot(root, mount.source);
  const info = await stat(host).catch(() => undefined);
  if (!info) {
    throw stepError(vertex, `failed to mount ${mount.target}: ${mount.source}: no such file or directory`);
  }
  if (mount.readonly) return { type: 'bind', target: mount.target, source: host, readonly: true };
  // Writable: the step may write, and its writes are thrown away afterwards (BuildKit rw binds).
  const dir = await scratch();
  if (!info.isDirectory()) {
    const copy = join(dir, 'file');
    await copyFile(host, copy);
    return { type: 'bind', target: mount.target, source: copy, readonly: false };
  }
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((name) => join(dir, name)) as [
    string,
    string,
    string,
  ];
  // The upper's root becomes the mount's root (an overlay root takes its upper's mode): 0755 as
  // before; work and the mount point are ours, inside the private scratch dir.
  await mkdir(upper, { mode: 0o755 });
  await mkdir(work, { mode: privateDirMode });
  await mkdir(merged, { mode: privateDirMode });
  const view = await mountOverlay({ lowers: [host], upper, work, target: merged });
  releases.push(view.unmount);
  return { type: 'bind', target: mount.target, source: merged, readonly: false };
}

/** Copies the entries of `dir` kept by `excludes` that lie under `source` into `into`. */
async function copyKept(deps: Deps, dir: string, excludes: string[], source: string, into: string) {
  const prefix = source.replace(/^\/+|\/+$/g, '');
  for (const entry of await deps.walkSource(dir, excludes)) {
    if (prefix !== '' && entry.path !== prefix && !entry.path.startsWith(`${prefix}/`)) continue;
    await copyEntry(dir, entry, into);
  }
}

async function copyEntry(dir: string, entry: SourceEntry, into: string): Promise<void> {
  const from = join(dir, entry.path);
  const to = join(into, entry.path);
  await mkdir(posix.dirname(to), { recursive: true });
  const info = await lstat(from);
  if (entry.type === 'dir') await mkdir(to, { recursive: true, mode: info.mode & 0o7777 });
  else if (entry.type === 'symlink') await symlink(await readlink(from), to);
  else if (entry.type === 'file') await copyFile(from, to);
  else return;
  if (entry.type !== 'symlink') await chmod(to, info.mode & 0o7777);
}

/**
 * A cache mount's directory, made with the mount's owner and mode the first time. `shared`
 * mounts share it; `locked` waits until no other step of this build holds it; `private` takes a
 * sibling directory while it is busy. (Coordination is within one tbuild process.)
 */
/** What a `from=` cache starts with: the host directory to copy and a name for that base. */
interface CacheSeed {
  dir: string;
  identity: string;
}

async function cacheSeed(
  deps: Deps,
  vertex: Vertex,
  seed: { input: number; source: string },
  inputs: FsResult[],
  releases: (() => Promise<void>)[],
): Promise<CacheSeed> {
  const sourceVertex = vertex.inputs[seed.input];
  const result = inputs[seed.input];
  if (sourceVertex === undefined || result === undefined) {
    throw stepError(vertex, `cache mount: no input ${seed.input}`);
  }
  const root =
    sourceVertex.op.type === 'context'
      ? sourceVertex.op.dir
      : await mountReadonly(deps.root, deps.store, result).then((view) => {
          releases.push(view.release);
          return view.path;
        });
  const dir = resolveInRoot(root, seed.source);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) {
    throw stepError(vertex, `cache mount from: ${seed.source}: not a directory`);
  }
  return { dir, identity: `${sourceVertex.digest}\0${seed.source}` };
}

async function prepareCache(
  root: string,
  state: MountState,
  mount: Extract<ExecMountOp, { type: 'cache' }>,
  releases: (() => Promise<void>)[],
  seed?: CacheSeed,
): Promise<ExecMount> {
  const name = createHash('sha256')
    .update(seed === undefined ? mount.id : `${mount.id}\0${seed.identity}`)
    .digest('hex')
    .slice(0, 32);
  let dir = join(root, 'cache', 'mounts', name);
  if (mount.sharing === 'locked') {
    const before = state.locks.get(name) ?? Promise.resolve();
    let unlock = () => {};
    const mine = new Promise<void>((resolve) => {
      unlock = resolve;
    });
    state.locks.set(
      name,
      before.then(() => mine),
    );
    await before;
    releases.push(async () => unlock());
  } else if (mount.sharing === 'private') {
    let n = 0;
    while ((state.busyCaches.get(dir) ?? 0) > 0) dir = join(root, 'cache', 'mounts', `${name}-${++n}`);
  }
  const held = dir;
  state.busyCaches.set(held, (state.busyCaches.get(held) ?? 0) + 1);
  releases.push(async () => {
    state.busyCaches.set(held, (state.busyCaches.get(held) ?? 1) - 1);
  });
  if (!existsSync(dir)) {
    // Made in the scratch dir under this process's name, so a kill leaves nothing the sweep does
    // not find (cache/sweep.ts), and renamed into place (same filesystem: both under the root).
    const partial = scratchPath(root, 'cachemount');
    await mkdir(join(root, 'cache', 'mounts'), { recursive: true, mode: privateDirMode });
    await mkdir(scratchDir(root), { recursive: true, mode: privateDirMode });
    if (seed) {
      // cp -a keeps owners, modes, links and times of the base's files; Node's fs.cp keeps no owners.
      await run('cp', ['-a', '--', seed.dir, partial]);
    } else {
      // Content: the mount's root, given the mount's mode and owner just below.
      await mkdir(partial, { mode: 0o700 });
      await chown(partial, mount.uid, mount.gid);
      await chmod(partial, mount.mode);
    }
    // Made aside and renamed, so a concurrent first use never sees a half-made directory.
    await rename(partial, dir).catch(() => rm(partial, { recursive: true, force: true }));
  }
  // Its mtime is its last use, for prune's `until` and LRU order (cache/gc.ts).
  const now = new Date();
  await utimes(dir, now, now);
  return { type: 'bind', target: mount.target, source: dir, readonly: mount.readonly };
}

/** A root-only directory on a memory filesystem when there is one, for secret files. */
let secretDirPromise: Promise<string> | undefined;
function secretDir(): Promise<string> {
  secretDirPromise ??= (async () => {
    // Named by its owner, so the sweep removes it after a kill -9 (cache/sweep.ts).
    const dir = secretScratchPath();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return dir;
  })();
  return secretDirPromise;
}

function stepError(vertex: Vertex, message: string): StepError {
  return new StepError(vertex.name, vertex.location, message, []);
}
