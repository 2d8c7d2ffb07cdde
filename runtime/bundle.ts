/**
 * A container's root filesystem and OCI bundle, made at each start: the overlay of the image's
 * layer snapshots under the container's writable layer (an active snapshot in the cache's
 * snapshot store), mounted at `<dir>/rootfs`, and `bundle/config.json` from the executor's spec
 * builder with the container's hosts, resolv.conf and hostname files beside it.
 */
import { existsSync } from 'node:fs';
import { chown, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  activeSnapshotPaths,
  createActiveSnapshot,
  mountOverlay,
  privateDirMode,
  snapshotPaths,
  unmountPath,
} from '../cache/index.ts';
import {
  readNofileHard,
  resolveInRoot,
  resolveUser,
  runtimeSpec,
  type SeccompProfile,
} from '../executor/index.ts';
import type { Container } from './container.ts';
import { containerPaths } from './container-store.ts';
import type { NetworkSetup } from './network/container-setup.ts';
import { daemonEnvironment } from './process.ts';

/** True when `path` is a mount point (listed in /proc/self/mounts). */
export async function isMounted(path: string): Promise<boolean> {
  const mounts = await readFile('/proc/self/mounts', 'utf8');
  return mounts.split('\n').some((line) => line.split(' ')[1] === path);
}

/** Mounts the container's rootfs (again, after a kill -9 left a stale mount, it is remounted). */
export async function mountContainerRootfs(root: string, container: Container): Promise<string> {
  const { record } = container;
  const paths = containerPaths(container.dir, record.Id);
  await unmountContainerRootfs(container);
  const layer = await createActiveSnapshot(
    root,
    record.Id,
    record.Layers.map((l) => l.diffId),
    paths.record,
  );
  await mkdir(paths.rootfs, { recursive: true, mode: privateDirMode }); // a mount point
  const lowers = record.Layers.map((l) => snapshotPaths(root, l.diffId).fs);
  lowers.push(await writeInitLayer(container.dir));
  await mountOverlay({ lowers, upper: layer.fs, work: layer.work, target: paths.rootfs });
  return paths.rootfs;
}

/**
 * Docker's init layer (moby daemon/initlayer/setup_unix.go), between the image and the writable
 * layer: the mount points and files runc mounts over exist there (empty files and directories
 * 0755, /etc/mtab a link to /proc/mounts, /.dockerenv), so runc never creates them in the
 * writable layer: `commit` does not take them, `diff` does not show them, `export` lists them
 * as Docker's does.
 */
const initLayerEntries: [path: string, kind: 'dir' | 'file' | { link: string }][] = [
  ['dev/pts', 'dir'],
  ['dev/shm', 'dir'],
  ['proc', 'dir'],
  ['sys', 'dir'],
  ['.dockerenv', 'file'],
  ['etc/resolv.conf', 'file'],
  ['etc/hosts', 'file'],
  ['etc/hostname', 'file'],
  ['dev/console', 'file'],
  ['etc/mtab', { link: '/proc/mounts' }],
];

async function writeInitLayer(dir: string): Promise<string> {
  const init = join(dir, 'init');
  for (const [path, kind] of initLayerEntries) {
    const target = join(init, path);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    if (kind === 'dir') await mkdir(target, { recursive: true, mode: 0o755 });
    else if (await lstat(target).catch(() => undefined)) continue;
    else if (kind === 'file') await writeFile(target, '', { mode: 0o755 });
    else await symlink(kind.link, target);
  }
  return init;
}

/**
 * Runs `fn` on a view of the container's filesystem: the live rootfs mount while it runs, else
 * a read-only overlay of its layers, init layer and writable layer mounted for the call (export,
 * cp, diff). The view shows what the container's process sees minus the mounts runc adds inside it.
 */
export async function withContainerFs<T>(
  root: string,
  container: Container,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const paths = containerPaths(container.dir, container.record.Id);
  if (await isMounted(paths.rootfs)) return fn(paths.rootfs);
  return withView(root, container, true, fn);
}

/** Runs `fn` on what the container started from: its image's layers and the init layer (diff). */
export function withBaseFs<T>(
  root: string,
  container: Container,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  return withView(root, container, false, fn);
}

async function withView<T>(
  root: string,
  container: Container,
  withUpper: boolean,
  fn: (dir: string) => Promise<T>,
): Promise<T> {
  const { record } = container;
  const upper = activeSnapshotPaths(root, record.Id).fs;
  const lowers = record.Layers.map((l) => snapshotPaths(root, l.diffId).fs);
  lowers.push(await writeInitLayer(container.dir));
  if (withUpper && existsSync(upper)) lowers.push(upper);
  const target = await mkdtemp(join(container.dir, 'view-'));
  const view = await mountOverlay({ lowers, target });
  try {
    return await fn(target);
  } finally {
    await view.unmount();
    await rm(target, { recursive: true, force: true });
  }
}

export async function unmountContainerRootfs(container: Container): Promise<void> {
  const { rootfs } = containerPaths(container.dir, container.record.Id);
  while (await isMounted(rootfs)) await unmountPath(rootfs);
}

/** Writes `bundle/config.json` and the files it binds for a rootfs mounted at `rootfs`, on `network`. */
export async function writeBundle(
  container: Container,
  rootfs: string,
  network: NetworkSetup,
): Promise<void> {
  const { record } = container;
  const paths = containerPaths(container.dir, record.Id);
  await mkdir(paths.bundle, { recursive: true, mode: privateDirMode });
  const hostsPath = join(paths.bundle, 'hosts');
  const resolvConfPath = join(paths.bundle, 'resolv.conf');
  const hostnamePath = join(paths.bundle, 'hostname');
  await writeFile(hostsPath, network.hosts);
  await writeFile(resolvConfPath, network.resolvConf);
  await writeFile(hostnamePath, `${record.Config.Hostname}\n`);
  const resolved = await resolveUser(rootfs, record.Config.User);
  // `docker run` lists the primary gid among the supplementary groups (moby oci_linux.go getUser).
  const ids = { ...resolved, additionalGids: [resolved.gid, ...resolved.additionalGids] };
  // Docker makes a missing working directory, owned by the process user (moby daemon/create.go).
  const workdir = resolveInRoot(rootfs, record.Config.WorkingDir || '/');
  if (!(await stat(workdir).catch(() => undefined))) {
    await mkdir(workdir, { recursive: true });
    await chown(workdir, ids.uid, ids.gid);
  }
  const spec = runtimeSpec(
    rootfs,
    [
      // Writable, as dockerd binds them (a RUN step gets them read-only): a write goes to the
      // container's own copy beside the bundle, never to its writable layer.
      { type: 'bind', source: hostnamePath, target: '/etc/hostname', readonly: false },
      { type: 'bind', source: hostsPath, target: '/etc/hosts', readonly: false },
      { type: 'bind', source: resolvConfPath, target: '/etc/resolv.conf', readonly: false },
      ...record.HostConfig.Mounts,
    ],
    {
      args: [record.Path, ...record.Args],
      env: daemonEnvironment(record.Config, record.Config.Tty),
      cwd: record.Config.WorkingDir || '/',
      user: record.Config.User,
      hostname: record.Config.Hostname,
      // `none` with a namespace path joins that namespace (executor/spec.ts namespacesFor).
      network: network.netnsPath === undefined ? 'host' : 'none',
      terminal: record.Config.Tty,
      // Docker's containers may gain privileges (a setuid `su` or `ping` works); RUN may not.
      noNewPrivileges: false,
      ...seccompOf(record.HostConfig.SecurityOpt),
    },
    ids,
    {
      hostsPath,
      resolvConfPath,
      ...nofile(),
      ...(network.netnsPath === undefined ? {} : { networkNamespacePath: network.netnsPath }),
    },
  );
  await writeFile(join(paths.bundle, 'config.json'), JSON.stringify(spec));
}

/** The seccomp profile `SecurityOpt` names (see ContainerRecord); none = Docker's default. */
function seccompOf(options: string[] | undefined): { seccomp?: SeccompProfile | 'unconfined' } {
  const option = options?.find((o) => o.startsWith('seccomp='));
  if (option === undefined) return {};
  const value = option.slice('seccomp='.length);
  return { seccomp: value === 'unconfined' ? 'unconfined' : (JSON.parse(value) as SeccompProfile) };
}

/** The host's hard RLIMIT_NOFILE caps the container's (see SpecOptions.hostNofileHard). */
function nofile(): { hostNofileHard?: number } {
  const hard = readNofileHard();
  return hard === undefined ? {} : { hostNofileHard: hard };
}
