/**
 * The smaller container commands: pause/unpause (runc's cgroup freezer), restart (stop, then
 * start), rename (under the names lock, as create picks names) and top (`runc ps`, which lists
 * the container cgroup's processes with the host's `ps -ef`, the columns `docker top` shows).
 */
import {
  acquireNamesLock,
  containerPaths,
  containersRuncRoot,
  listContainers,
  withContainerLock,
  writeJsonAtomic,
  writeState,
} from './container-store.ts';
import { ContainerError } from './errors.ts';
import { inspectContainer, type SelfCommand, startContainer, stopContainer } from './lifecycle.ts';
import { runc } from './monitor.ts';
import { namePattern } from './names.ts';

/** Freezes (`pause`) or thaws (`unpause`) every process of a running container. */
export async function pauseContainer(root: string, ref: string, pause: boolean): Promise<void> {
  const found = await inspectContainer(root, ref);
  const done = await withContainerLock(root, found.record.Id, async (c) => {
    const { Id } = c.record;
    if (pause && c.state.Status === 'paused') throw new ContainerError(`Container ${Id} is already paused`);
    if (!pause && c.state.Status !== 'paused') throw new ContainerError(`Container ${Id} is not paused`);
    if (c.state.Status !== 'running' && c.state.Status !== 'paused') {
      throw new ContainerError(`Container ${Id} is not running`);
    }
    const r = await runc(containersRuncRoot(root), [pause ? 'pause' : 'resume', Id]);
    if (r.code !== 0)
      throw new ContainerError(`Cannot ${pause ? 'pause' : 'unpause'} container ${Id}: ${r.stderr.trim()}`);
    writeState(c, { ...c.state, Status: pause ? 'paused' : 'running' });
    return true;
  });
  if (done === undefined) throw new ContainerError(`No such container: ${ref}`);
}

/** Docker's restart: stop (signal, then SIGKILL after the timeout) and start again. */
export async function restartContainer(
  root: string,
  ref: string,
  self: SelfCommand,
  timeoutSeconds?: number,
): Promise<void> {
  const c = await inspectContainer(root, ref);
  if (c.state.Status === 'paused') await pauseContainer(root, c.record.Id, false);
  await stopContainer(root, c.record.Id, timeoutSeconds);
  await startContainer(root, c.record.Id, self);
}

/** Docker's rename, with its errors (moby daemon/rename.go). */
export async function renameContainer(root: string, ref: string, newName: string): Promise<void> {
  const bare = newName.startsWith('/') ? newName.slice(1) : newName;
  if (!namePattern.test(bare)) {
    throw new ContainerError(
      `Invalid container name (${newName}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  const lock = await acquireNamesLock(root);
  try {
    const c = await inspectContainer(root, ref);
    if (c.record.Name === bare) {
      throw new ContainerError('Renaming a container with the same name as its current name');
    }
    const owner = (await listContainers(root)).find((o) => o.record.Name === bare);
    if (owner) {
      throw new ContainerError(
        `Error when allocating new name: Conflict. The container name "/${bare}" is already in use by container "${owner.record.Id}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    }
    const record = { ...c.record, Name: bare };
    writeJsonAtomic(containerPaths(c.dir, c.record.Id).record, record);
  } finally {
    await lock.release();
  }
}

/** `top`: the processes of a running container as `ps` shows them (default `-ef`). */
export async function topContainer(root: string, ref: string, psArgs: string[]): Promise<string> {
  const c = await inspectContainer(root, ref);
  if (c.state.Status !== 'running' && c.state.Status !== 'paused') {
    throw new ContainerError(`Container ${c.record.Id} is not running`);
  }
  const r = await runc(containersRuncRoot(root), [
    'ps',
    c.record.Id,
    ...(psArgs.length > 0 ? psArgs : ['-ef']),
  ]);
  if (r.code !== 0) throw new ContainerError(`Error running top: ${r.stderr.trim()}`);
  return r.stdout;
}
