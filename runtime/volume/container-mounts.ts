/**
 * A new container's mounts, in the order moby's daemon/volumes.go registerMountPoints decides
 * them: `--volumes-from` first, then `-v` and `--mount` (the same destination twice among these
 * is Docker's "Duplicate mount point"; they replace a volumes-from mount there), then an anonymous
 * volume for each image VOLUME no mount covers (daemon/create_unix.go). Named volumes are made on
 * first use, anonymous ones new, each through the store. Runs under the store's lock
 * (withVolumeStore), which the caller holds until the container is placed.
 */
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Container } from '../container.ts';
import { RunError } from '../errors.ts';
import type { ContainerMount } from './container-mount.ts';
import { VolumeError } from './errors.ts';
import type { MountRequest } from './mount-request.ts';
import { anonymousLabel, anonymousVolumeName, createVolumeLocked } from './store.ts';

export interface MountPlan {
  requests: readonly MountRequest[];
  /** `--volumes-from`: each source container with its mode (`ro`, `rw`, or '' to keep). */
  volumesFrom: readonly { container: Container; mode: '' | 'ro' | 'rw' }[];
  /** The image's Config.Volumes paths. */
  imageVolumes: readonly string[];
}

/** The record's mounts, and the anonymous volumes made for them (to remove if create fails). */
export async function resolveMountsLocked(
  root: string,
  plan: MountPlan,
): Promise<{ mounts: ContainerMount[]; created: string[] }> {
  const created: string[] = [];
  const byTarget = new Map<string, ContainerMount>();
  for (const { container, mode } of plan.volumesFrom) {
    for (const m of container.record.HostConfig.Mounts as ContainerMount[]) {
      if (m.type === 'tmpfs') continue;
      byTarget.set(posix.normalize(m.target), mode === '' ? { ...m } : { ...m, readonly: mode === 'ro' });
    }
  }
  const own = new Set<string>();
  try {
    for (const request of plan.requests) {
      const key = posix.normalize(request.target);
      if (own.has(key)) throw new RunError(`Duplicate mount point: ${request.target}`);
      own.add(key);
      byTarget.set(key, await mountFor(root, request, created));
    }
    for (const path of plan.imageVolumes) {
      const key = posix.normalize(path);
      if (byTarget.has(key)) continue;
      const anonymous = { type: 'volume', source: '', target: key, readonly: false, noCopy: false, mode: '' };
      byTarget.set(key, await mountFor(root, anonymous as MountRequest, created));
    }
  } catch (error) {
    // What the daemon refuses is `run`'s 125 (create.ts maps it to create's 1).
    throw error instanceof VolumeError ? new RunError(error.message, { cause: error }) : error;
  }
  return { mounts: [...byTarget.values()], created };
}

async function mountFor(root: string, request: MountRequest, created: string[]): Promise<ContainerMount> {
  const base = { target: request.target, readonly: request.readonly, mode: request.mode };
  const bind = request.bind === undefined ? {} : { bind: request.bind };
  if (request.type === 'tmpfs') {
    return {
      ...base,
      type: 'tmpfs',
      source: '',
      ...(request.size === undefined ? {} : { size: request.size }),
    };
  }
  if (request.type === 'bind') {
    // Docker's --mount rule, applied to -v too: a missing bind source is an error, not created.
    await stat(request.source).catch(() => {
      throw new RunError(
        `invalid mount config for type "bind": bind source path does not exist: ${request.source}`,
      );
    });
    return { ...base, ...bind, type: 'bind', source: request.source };
  }
  const anonymous = request.source === '';
  const volume = anonymous
    ? createVolumeLocked(root, anonymousVolumeName(), { [anonymousLabel]: '', ...request.labels })
    : createVolumeLocked(root, request.source, request.labels ?? {});
  if (anonymous) created.push(volume.Name);
  return {
    ...base,
    ...bind,
    type: 'bind',
    source: volume.Mountpoint,
    volume: { name: volume.Name, anonymous, noCopy: request.noCopy },
  };
}
