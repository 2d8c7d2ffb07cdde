/**
 * Where containers live on disk and how they are found. One directory per container:
 *
 *   <root>/containers/<id>/container.json   the record (container.ts), written once
 *   <root>/containers/<id>/state.json       the state, replaced atomically (temp + fsync + rename)
 *   <root>/containers/<id>/lock             flock: one state change at a time
 *   <root>/containers/<id>/bundle/          the OCI bundle: config.json, hosts, resolv.conf,
 *                                           hostname; conmon adds attach, ctl, winsz there
 *   <root>/containers/<id>/rootfs/          the overlay mount point while it runs
 *   <root>/containers/<id>/ctr.log          conmon's k8s-file log (appended across restarts)
 *   <root>/containers/<id>/exits/<id>       conmon's exit file: the exit code, written at exit
 *   <root>/containers/<id>/conmon.pid       the monitor's pid; conmon.log its own messages
 *   <root>/snapshots/active-<id>/           the writable layer (cache/active.ts)
 *
 * A directory is made under a temporary name and renamed into place with its record, so a
 * killed `create` never leaves a half-made container visible. Commands never keep anything in
 * memory between invocations: this directory and runc's state are the whole truth.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileDurableSync } from '../files.ts';
import { acquireLock } from '../locks.ts';
import type { Container, ContainerRecord, ContainerState } from './container.ts';
import { ContainerError } from './errors.ts';

export function containersDir(root: string): string {
  return join(root, 'containers');
}

export function containerDir(root: string, id: string): string {
  return join(containersDir(root), id);
}

/** The runc `--root` for containers (builds use their own under `<root>/runc/runc`). */
export function containersRuncRoot(root: string): string {
  return join(root, 'runc', 'containers');
}

/** The files of one container directory. */
export function containerPaths(dir: string, id: string) {
  return {
    record: join(dir, 'container.json'),
    state: join(dir, 'state.json'),
    lock: join(dir, 'lock'),
    bundle: join(dir, 'bundle'),
    rootfs: join(dir, 'rootfs'),
    log: join(dir, 'ctr.log'),
    exitDir: join(dir, 'exits'),
    exitFile: join(dir, 'exits', id),
    containerPid: join(dir, 'bundle', 'pidfile'),
    monitorPid: join(dir, 'conmon.pid'),
    monitorLog: join(dir, 'conmon.log'),
  };
}

const idPattern = /^[0-9a-f]{64}$/;

export function newContainerId(): string {
  return randomBytes(32).toString('hex');
}

/** Replaces a JSON file whole: a reader sees the old or the new content, never a part. */
export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileDurableSync(tmp, `${JSON.stringify(value, null, 1)}\n`);
  renameSync(tmp, path);
}

export function writeState(container: Container, state: ContainerState): void {
  writeJsonAtomic(containerPaths(container.dir, container.record.Id).state, state);
  container.state = state;
}

/** Reads one container; undefined when its directory or record is gone (removed meanwhile). */
export function readContainer(root: string, id: string): Container | undefined {
  const dir = containerDir(root, id);
  const paths = containerPaths(dir, id);
  try {
    const record = JSON.parse(readFileSync(paths.record, 'utf8')) as ContainerRecord;
    const state = JSON.parse(readFileSync(paths.state, 'utf8')) as ContainerState;
    return { record, state, dir };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Every container, newest first (Docker's `ps` order). */
export async function listContainers(root: string): Promise<Container[]> {
  const names = await readdir(containersDir(root)).catch(() => [] as string[]);
  const out: Container[] = [];
  for (const name of names) {
    if (!idPattern.test(name)) continue;
    const c = readContainer(root, name);
    if (c) out.push(c);
  }
  return out.sort((a, b) =>
    a.record.Created < b.record.Created ? 1 : a.record.Created > b.record.Created ? -1 : 0,
  );
}

/**
 * Docker's lookup (daemon/container.go GetContainer): a full id, then an exact name, then a
 * unique id prefix. Throws Docker's "No such container" / "Multiple IDs" errors.
 */
export async function findContainer(root: string, ref: string): Promise<Container> {
  if (idPattern.test(ref)) {
    const c = readContainer(root, ref);
    if (c) return c;
  }
  const all = await listContainers(root);
  const name = ref.startsWith('/') ? ref.slice(1) : ref;
  const byName = all.find((c) => c.record.Name === name);
  if (byName) return byName;
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = all.filter((c) => c.record.Id.startsWith(ref));
    if (matches.length === 1) return matches[0] as Container;
    if (matches.length > 1) throw new ContainerError(`Multiple IDs found with provided prefix: ${ref}`);
  }
  throw new ContainerError(`No such container: ${ref}`);
}

/**
 * Runs `fn` holding the container's lock, with the container read again under it. Resolves
 * undefined (fn not called) when the container was removed meanwhile.
 */
export async function withContainerLock<T>(
  root: string,
  id: string,
  fn: (container: Container) => Promise<T>,
): Promise<T | undefined> {
  const dir = containerDir(root, id);
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(containerPaths(dir, id).lock);
  } catch (error) {
    if (readContainer(root, id) === undefined) return undefined;
    throw error;
  }
  try {
    const container = readContainer(root, id);
    if (container === undefined) return undefined;
    return await fn(container);
  } finally {
    await lock.release();
  }
}

/** The lock that makes name choice and rename atomic across processes. */
export function acquireNamesLock(root: string) {
  return acquireLock(join(containersDir(root), 'names.lock'));
}

/** RFC 3339 with as much precision as the clock gives (microseconds), UTC, Go's trimmed form. */
export function nowRfc3339(): string {
  const micros = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  const seconds = micros / 1_000_000n;
  const fraction = (micros % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  const base = new Date(Number(seconds) * 1000).toISOString().slice(0, 19);
  return `${base}${fraction === '' ? '' : `.${fraction}`}Z`;
}
