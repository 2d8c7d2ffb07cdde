/**
 * Finding the truth about a container whose state file says it runs. There is no daemon to be
 * told when a container ends, so every command that reads a container checks it here:
 *  - conmon's exit file exists: the container exited with that code (conmon writes 128+n for
 *    signal n, so 137 after a kill -9);
 *  - else the monitor runs (same pid, same start time): it is still up;
 *  - else the monitor was killed: nobody can log or reap the container any more, so it is
 *    killed and recorded as exited with 137 (what `docker ps` shows for a SIGKILLed one).
 * Recording an exit (`finalize`) unmounts the rootfs and deletes runc's state, under the
 * container's lock and idempotently: conmon's exit command, `stop`, `wait` and `ps` may all
 * try at once, and the first one wins.
 */
import { readFileSync } from 'node:fs';
import { unmountContainerRootfs } from './bundle.ts';
import type { Container } from './container.ts';
import {
  containerPaths,
  containersRuncRoot,
  nowRfc3339,
  withContainerLock,
  writeState,
} from './container-store.ts';
import { isMonitorAlive, isProcessRunning, pollUntil, readExitFile, runc } from './monitor.ts';
import { detachContainer } from './network/attach.ts';

const activeStatuses = new Set(['running', 'paused', 'restarting']);

export function isActive(container: Container): boolean {
  return activeStatuses.has(container.state.Status);
}

/** The container with its state made true (see the file comment). */
export async function syncState(root: string, container: Container): Promise<Container> {
  if (!isActive(container)) return container;
  const paths = containerPaths(container.dir, container.record.Id);
  if (
    readExitFile(paths.exitFile) === undefined &&
    isMonitorAlive(container.state.MonitorPid, container.state.MonitorStartTicks)
  ) {
    return container;
  }
  return (await withContainerLock(root, container.record.Id, (c) => finalizeLocked(root, c))) ?? container;
}

/**
 * Records the exit of an active container (the caller holds its lock): from the exit file, or
 * as killed (137) when the monitor is gone without writing one. A no-op for one that is not
 * active or whose monitor still runs without an exit file.
 */
export async function finalizeLocked(root: string, container: Container): Promise<Container> {
  if (!isActive(container)) return container;
  const { record, state } = container;
  const paths = containerPaths(container.dir, record.Id);
  const runcRoot = containersRuncRoot(root);
  let exit = readExitFile(paths.exitFile);
  let error = '';
  if (exit === undefined) {
    if (isMonitorAlive(state.MonitorPid, state.MonitorStartTicks)) return container;
    // The monitor may have written the file just before it ended.
    exit = readExitFile(paths.exitFile);
    if (exit === undefined) {
      await runc(runcRoot, ['kill', record.Id, 'KILL']);
      if (state.Pid > 0) killQuietly(state.Pid);
      await pollUntil(() => !isProcessRunning(state.Pid), 10_000);
      exit = { code: 137, at: new Date() };
      error = 'the container monitor (conmon) was killed; the container was killed with it';
    }
  }
  await runc(runcRoot, ['delete', '--force', record.Id]);
  await unmountContainerRootfs(container);
  await detachContainer(root, record.Id);
  writeState(container, {
    ...state,
    Status: 'exited',
    Pid: 0,
    ExitCode: exit.code,
    Error: error,
    FinishedAt: exit === undefined ? nowRfc3339() : toRfc3339(exit.at),
    MonitorPid: 0,
    MonitorStartTicks: 0,
  });
  return container;
}

/**
 * Kills whatever a container may still have running regardless of its recorded state (a
 * `start` killed half-way, a monitor left behind): the monitor named in conmon.pid, runc's
 * container, the rootfs mount. For `rm -f` and before a start.
 */
export async function killLeftovers(root: string, container: Container): Promise<void> {
  const { record } = container;
  const paths = containerPaths(container.dir, record.Id);
  const monitorPid = readPid(paths.monitorPid);
  const stillConmon = () => monitorPid !== undefined && isConmonOf(monitorPid, record.Id);
  // Once the exit file is written, conmon only waits for its exit command (which finds the
  // container recorded or gone and ends): it holds nothing, so it is neither waited for nor killed.
  const exited = () => readExitFile(paths.exitFile) !== undefined;
  if (monitorPid !== undefined && stillConmon() && !exited()) {
    // After the container's exit conmon lingers only to write the exit file: give it a moment.
    await pollUntil(() => !stillConmon() || exited(), 2000);
    if (stillConmon() && !exited()) killQuietly(monitorPid);
    await pollUntil(() => !stillConmon() || exited(), 5000);
  }
  await runc(containersRuncRoot(root), ['delete', '--force', record.Id]);
  const pid = readPid(paths.containerPid);
  if (pid !== undefined && isProcessRunning(pid) && cgroupNames(pid, record.Id)) {
    killQuietly(pid);
    await pollUntil(() => !isProcessRunning(pid), 5000);
  }
  await unmountContainerRootfs(container);
  await detachContainer(root, record.Id);
}

function readPid(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, 'utf8').trim());
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** conmon's argv names the container id after `-c`: a reused pid is not mistaken for it. */
function isConmonOf(pid: number, id: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(id) && (argv[0] ?? '').endsWith('conmon');
  } catch {
    return false;
  }
}

/** runc puts the container in a cgroup named after its id. */
function cgroupNames(pid: number, id: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(id);
  } catch {
    return false;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** A Date as RFC 3339 UTC with its milliseconds, Go's trimmed form. */
function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.?0+Z$/, 'Z');
}
