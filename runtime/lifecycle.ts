/**
 * A kept container's life after `create`: start (mount, bundle, conmon, `runc start`), stop,
 * kill, remove, wait, and the cleanup conmon runs when the container exits. Each takes the
 * container's lock only for a state change, never while waiting for an exit, because the exit is
 * recorded by someone else holding that lock (state-sync.ts).
 */

import { mkdirSync, rmSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import { privateDirMode, removeActiveSnapshot } from '../cache/index.ts';
import { mountContainerRootfs, unmountContainerRootfs, writeBundle } from './bundle.ts';
import type { Container } from './container.ts';
import {
  containerDir,
  containerPaths,
  containersRuncRoot,
  findContainer,
  nowRfc3339,
  readContainer,
  withContainerLock,
  writeState,
} from './container-store.ts';
import { ContainerError } from './errors.ts';
import { launchMonitor, pollUntil, processStartTicks, readExitFile, runc, startError } from './monitor.ts';
import { setUpContainerNetwork } from './network/container-setup.ts';
import { isRemovalHeld } from './removal-hold.ts';
import { finalizeLocked, isActive, killLeftovers, syncState } from './state-sync.ts';
import { copyUpVolumes } from './volume/copy-up.ts';
import { removeUnusedVolumes } from './volume/manage.ts';

/**
 * How a container's monitor calls tbuild back when the container exits: argv that, followed
 * by `container-cleanup <id>`, runs `tbuild --root ROOT` (the CLI composes it).
 */
export type SelfCommand = readonly string[];

/** Finds a container by id, name or id prefix, with its state made true. */
export async function inspectContainer(root: string, ref: string): Promise<Container> {
  return syncState(root, await findContainer(root, ref));
}

/** What a caller of `start` does while the container is created but its process not started. */
export interface StartHooks {
  /** Runs between `runc create` and `runc start`: an attach made here misses no output. */
  beforeStart?: (container: Container) => Promise<void>;
}

/** Starts a created or exited container; a running one is left alone (Docker does the same). */
export async function startContainer(
  root: string,
  ref: string,
  self: SelfCommand,
  hooks: StartHooks = {},
): Promise<Container> {
  const found = await inspectContainer(root, ref);
  const started = await withContainerLock(root, found.record.Id, async (c) => {
    const current = await finalizeLocked(root, c);
    if (isActive(current)) return current;
    await startLocked(root, current, self, hooks);
    return current;
  });
  if (started === undefined) throw new ContainerError(`No such container: ${ref}`);
  return started;
}

async function startLocked(
  root: string,
  container: Container,
  self: SelfCommand,
  hooks: StartHooks = {},
): Promise<void> {
  const { record } = container;
  const paths = containerPaths(container.dir, record.Id);
  const runcRoot = containersRuncRoot(root);
  await killLeftovers(root, container);
  rmSync(paths.exitFile, { force: true });
  rmSync(paths.containerPid, { force: true });
  mkdirSync(paths.exitDir, { recursive: true, mode: privateDirMode });
  try {
    const rootfs = await mountContainerRootfs(root, container);
    await copyUpVolumes(rootfs, record.HostConfig.Mounts);
    await writeBundle(container, rootfs, await setUpContainerNetwork(root, container, self));
    const { pid, monitorPid } = await launchMonitor({
      id: record.Id,
      name: record.Name,
      bundle: paths.bundle,
      runcRoot,
      logPath: paths.log,
      exitDir: paths.exitDir,
      containerPidFile: paths.containerPid,
      monitorPidFile: paths.monitorPid,
      monitorLogFile: paths.monitorLog,
      terminal: record.Config.Tty,
      stdin: record.Config.OpenStdin,
      // Docker closes stdin after the first attach only without a terminal (moby container/stream).
      stdinOnce: record.Config.StdinOnce === true && !record.Config.Tty,
      exitCommand: [...self, 'container-cleanup', record.Id],
    });
    await hooks.beforeStart?.(container);
    const started = await runc(runcRoot, ['start', record.Id]);
    if (started.code !== 0) throw startError(started.stderr);
    writeState(container, {
      ...container.state,
      Status: 'running',
      Pid: pid,
      ExitCode: 0,
      Error: '',
      StartedAt: nowRfc3339(),
      ManuallyStopped: false,
      MonitorPid: monitorPid,
      MonitorStartTicks: processStartTicks(monitorPid) ?? 0,
    });
  } catch (error) {
    await killLeftovers(root, container).catch(() => undefined);
    // Docker keeps a container that failed to start as created, with the exit code and reason.
    const failed = error as { message?: string; exitCode?: number };
    writeState(container, {
      ...container.state,
      Status: container.state.StartedAt.startsWith('0001') ? 'created' : 'exited',
      ExitCode: typeof failed.exitCode === 'number' ? failed.exitCode : 125,
      Error: failed.message ?? String(error),
    });
    throw error;
  }
}

/** Parses a signal as Docker takes it: `KILL`, `SIGKILL`, `9`. Returns its name without SIG. */
export function parseSignal(text: string): string {
  const upper = text.toUpperCase();
  const signals = constants.signals as Record<string, number>;
  if (/^\d+$/.test(text)) {
    const name = Object.keys(signals).find((k) => signals[k] === Number(text));
    if (name) return name.slice(3);
  } else {
    const name = upper.startsWith('SIG') ? upper : `SIG${upper}`;
    if (name in signals) return name.slice(3);
  }
  throw new ContainerError(`Invalid signal: ${text}`);
}

/** Marks the container as stopped by the user (no restart) and sends it a signal. */
async function signalContainer(root: string, container: Container, signal: string): Promise<boolean> {
  const sent = await withContainerLock(root, container.record.Id, async (c) => {
    if (!isActive(c)) return false;
    writeState(c, { ...c.state, ManuallyStopped: true });
    const r = await runc(containersRuncRoot(root), ['kill', c.record.Id, signal]);
    return r.code === 0;
  });
  return sent === true;
}

/** Waits for the container to exit and records it; false when it still runs after `timeoutMs`. */
async function awaitExit(root: string, container: Container, timeoutMs: number): Promise<boolean> {
  const paths = containerPaths(container.dir, container.record.Id);
  let gone = false;
  await pollUntil(() => {
    gone =
      readExitFile(paths.exitFile) !== undefined || readContainer(root, container.record.Id) === undefined;
    return gone;
  }, timeoutMs);
  if (!gone) {
    const now = await syncState(root, container);
    return !isActive(now);
  }
  await syncState(root, container);
  return true;
}

/**
 * Docker's stop: the stop signal, then SIGKILL after `timeoutSeconds` (default: the
 * container's StopTimeout, else 10). Stopping a container that is not running succeeds.
 */
export async function stopContainer(root: string, ref: string, timeoutSeconds?: number): Promise<void> {
  const container = await inspectContainer(root, ref);
  if (!isActive(container)) return;
  const timeout = timeoutSeconds ?? container.record.Config.StopTimeout ?? 10;
  const signal = parseSignal(container.record.Config.StopSignal || 'SIGTERM');
  await signalContainer(root, container, signal);
  if (timeout >= 0 && (await awaitExit(root, container, timeout * 1000))) return autoRemove(root, container);
  await signalContainer(root, container, 'KILL');
  if (!(await awaitExit(root, container, 30_000))) {
    throw new ContainerError(`cannot stop container: ${ref}: it still runs 30 s after SIGKILL`);
  }
  await autoRemove(root, container);
}

/** Docker's kill: a signal (default KILL) to a running container; an error when it is not running. */
export async function killContainer(root: string, ref: string, signal = 'KILL'): Promise<void> {
  const name = parseSignal(signal);
  const container = await inspectContainer(root, ref);
  // Judged under the lock (signalContainer): a start in progress holds it until it has
  // recorded the container running, and a signal sent then must reach it.
  if (!(await signalContainer(root, container, name))) {
    throw new ContainerError(
      `Cannot kill container: ${ref}: Container ${container.record.Id} is not running`,
    );
  }
  // Docker's daemon waits for a SIGKILLed container to be gone before answering (daemon/kill.go).
  if (name === 'KILL' && (await awaitExit(root, container, 10_000))) await autoRemove(root, container);
}

/**
 * `--rm`: whoever sees an auto-remove container exited removes it, unless an attached
 * foreground run holds the removal to read the exit code first (removal-hold.ts).
 */
async function autoRemove(root: string, container: Container): Promise<void> {
  if (container.record.HostConfig.AutoRemove && !isRemovalHeld(container))
    await removeContainer(root, container.record.Id, true, true).catch(() => undefined);
}

/**
 * Docker's rm: refuses a running container unless `force` (then kills it); removes the
 * monitor, runc's state, the mount, the writable layer and the directory; with `volumes` (`rm
 * -v`, and `--rm` as Docker's autoremove does) its anonymous volumes no other container uses.
 */
export async function removeContainer(
  root: string,
  ref: string,
  force: boolean,
  volumes = false,
): Promise<void> {
  const container = await inspectContainer(root, ref);
  if (isActive(container) && !force) {
    throw new ContainerError(
      `You cannot remove a running container ${container.record.Id}. Stop the container before attempting removal or force remove`,
    );
  }
  await withContainerLock(root, container.record.Id, async (c) => {
    if (isActive(c)) {
      await runc(containersRuncRoot(root), ['kill', c.record.Id, 'KILL']);
      const paths = containerPaths(c.dir, c.record.Id);
      await pollUntil(() => readExitFile(paths.exitFile) !== undefined, 5000);
    }
    await killLeftovers(root, c);
    await unmountContainerRootfs(c);
    await removeActiveSnapshot(root, c.record.Id);
    // Renamed aside first: a half-removed container is never listed.
    const trash = join(root, 'tmp', `trash-ctr-${c.record.Id}`);
    mkdirSync(join(root, 'tmp'), { recursive: true, mode: privateDirMode });
    await rename(containerDir(root, c.record.Id), trash);
    await rm(trash, { recursive: true, force: true });
  });
  if (volumes) {
    const anonymous = container.record.HostConfig.Mounts.flatMap((m) =>
      m.volume?.anonymous ? [m.volume.name] : [],
    );
    await removeUnusedVolumes(root, anonymous);
  }
}

/** Docker's wait: blocks until the container is not running and resolves with its exit code. */
export async function waitContainer(root: string, ref: string): Promise<number> {
  let container = await inspectContainer(root, ref);
  while (isActive(container)) {
    await awaitExit(root, container, 60_000);
    const again = readContainer(root, container.record.Id);
    if (again === undefined) return container.state.ExitCode;
    container = await syncState(root, again);
  }
  return container.state.ExitCode;
}

/**
 * What conmon's exit command runs (`tbuild container-cleanup ID`): records the exit, unmounts,
 * and removes an `--rm` container. Quiet and idempotent: another command may have done it.
 */
export async function cleanupContainer(root: string, id: string, self?: SelfCommand): Promise<void> {
  const container = readContainer(root, id);
  if (container === undefined) return;
  const done = await withContainerLock(root, id, (c) => finalizeLocked(root, c));
  if (done === undefined || isActive(done)) return;
  if (self !== undefined && shouldRestart(done)) {
    // Docker's backoff (moby restartmanager): 100 ms, doubling each restart, at most a minute.
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** done.state.RestartCount, 60_000)));
    await withContainerLock(root, id, async (c) => {
      // A stop, kill or start meanwhile decides instead.
      if (isActive(c) || c.state.ManuallyStopped || c.state.FinishedAt !== done.state.FinishedAt) return;
      writeState(c, { ...c.state, RestartCount: c.state.RestartCount + 1 });
      await startLocked(root, c, self);
    });
    return;
  }
  await autoRemove(root, done);
}

/**
 * Docker's restart policies (moby restartmanager ShouldRestart): never after a stop or kill by
 * the user; `always` and `unless-stopped` after any exit; `on-failure[:N]` after a non-zero exit
 * while fewer than N restarts were made (no limit when N is 0).
 */
function shouldRestart(container: Container): boolean {
  const { Name, MaximumRetryCount } = container.record.HostConfig.RestartPolicy;
  const { state } = container;
  if (state.ManuallyStopped) return false;
  if (Name === 'always' || Name === 'unless-stopped') return true;
  if (Name !== 'on-failure' || state.ExitCode === 0) return false;
  return MaximumRetryCount === 0 || state.RestartCount < MaximumRetryCount;
}
