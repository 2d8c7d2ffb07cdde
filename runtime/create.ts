/**
 * `create`: a container from a stored image, kept on disk (container-store.ts) and not started.
 * Docker's rules decide the process (process.ts), the name (given, or generated and unique) and
 * the id (64 hex). The image's layers are unpacked into the snapshot store now, so `start` only
 * mounts.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { privateDirMode } from '../cache/index.ts';
import type { SeccompProfile } from '../executor/index.ts';
import { ensureLayerSnapshots, ImageStore, imageSnapshotLayers } from '../image/index.ts';
import { type ContainerRecord, initialState, type RestartPolicy } from './container.ts';
import {
  acquireNamesLock,
  containerPaths,
  containersDir,
  findContainer,
  listContainers,
  newContainerId,
  nowRfc3339,
  writeJsonAtomic,
} from './container-store.ts';
import { RunError } from './errors.ts';
import { findImage } from './image-lookup.ts';
import { generateName } from './name-generator.ts';
import { namePattern } from './names.ts';
import { type NetworkingRequest, resolveNetworking } from './network/container-config.ts';
import { type ProcessOverrides, resolveProcess } from './process.ts';
import { type MountPlan, resolveMountsLocked } from './volume/container-mounts.ts';
import { removeUnusedVolumesLocked } from './volume/manage.ts';
import type { MountRequest } from './volume/mount-request.ts';
import { withVolumeStore } from './volume/store.ts';

export interface CreateRequest extends ProcessOverrides, NetworkingRequest {
  root: string;
  image: string;
  name?: string;
  /** `-v` and `--mount`, in the order given. */
  mounts: MountRequest[];
  /** `--volumes-from CONTAINER[:ro|rw]`. */
  volumesFrom?: string[];
  hostname?: string;
  labels: Record<string, string>;
  tty: boolean;
  openStdin: boolean;
  /** Docker's AttachStdin/AttachStdout/AttachStderr and StdinOnce (see ContainerRecord). */
  attach: { stdin: boolean; stdout: boolean; stderr: boolean; stdinOnce: boolean };
  autoRemove: boolean;
  restart: RestartPolicy;
  stopSignal?: string;
  stopTimeout?: number;
  /** `--security-opt seccomp=…`: a profile in Docker's format, or `unconfined`; Docker's default when absent. */
  seccomp?: SeccompProfile | 'unconfined';
  hostEnv?: Readonly<Record<string, string | undefined>>;
}

/** Creates the container and resolves with its record. */
export async function createContainer(request: CreateRequest): Promise<ContainerRecord> {
  const { root } = request;
  const store = await ImageStore.open(root);
  let record: ContainerRecord;
  let plan: MountPlan;
  try {
    const image = await findImage(store, request.image);
    const id = newContainerId();
    const hostname = request.hostname ?? id.slice(0, 12);
    const imageConfig = image.config.config;
    // PATH, HOSTNAME and TERM are added when the process starts (process.ts daemonEnvironment).
    const proc = resolveProcess(imageConfig, request, request.hostEnv ?? process.env);
    plan = await mountPlan(root, request, Object.keys(imageConfig?.Volumes ?? {}));
    const networking = await resolveNetworking(root, request, Object.keys(imageConfig?.ExposedPorts ?? {}));
    const layers = imageSnapshotLayers(image);
    await ensureLayerSnapshots(root, store, layers);
    const entrypoint =
      request.entrypoint !== undefined
        ? request.entrypoint === ''
          ? null
          : [request.entrypoint]
        : (imageConfig?.Entrypoint ?? null);
    const cmd =
      request.args.length > 0 || request.entrypoint !== undefined ? request.args : (imageConfig?.Cmd ?? null);
    record = {
      Id: id,
      Name: '',
      Created: nowRfc3339(),
      Image: request.image,
      ImageId: image.id,
      Path: proc.args[0] as string,
      Args: proc.args.slice(1),
      Config: {
        Hostname: hostname,
        User: proc.user,
        Env: proc.env,
        Cmd: cmd,
        Entrypoint: entrypoint,
        WorkingDir: proc.cwd,
        Labels: { ...(imageConfig?.Labels ?? {}), ...request.labels },
        Tty: request.tty,
        OpenStdin: request.openStdin,
        AttachStdin: request.attach.stdin,
        AttachStdout: request.attach.stdout,
        AttachStderr: request.attach.stderr,
        StdinOnce: request.attach.stdinOnce,
        StopSignal: request.stopSignal ?? imageConfig?.StopSignal ?? 'SIGTERM',
        ...(request.stopTimeout === undefined ? {} : { StopTimeout: request.stopTimeout }),
        Image: request.image,
      },
      HostConfig: {
        NetworkMode: networking.NetworkMode,
        ...(networking.ExtraHosts.length > 0 ? { ExtraHosts: networking.ExtraHosts } : {}),
        PortBindings: networking.PortBindings,
        Mounts: [],
        AutoRemove: request.autoRemove,
        RestartPolicy: request.restart,
        ...(request.seccomp === undefined
          ? {}
          : {
              SecurityOpt: [
                `seccomp=${request.seccomp === 'unconfined' ? 'unconfined' : JSON.stringify(request.seccomp)}`,
              ],
            }),
      },
      Networks: networking.Networks,
      Layers: layers,
    };
  } finally {
    await store.close();
  }
  // Under the volume store's lock from making the volumes to placing the container: a `volume rm`
  // or `prune` cannot take a volume between the two (it would see no container using it).
  await withVolumeStore(root, async () => {
    const { mounts, created } = await resolveMountsLocked(root, plan);
    record.HostConfig.Mounts = mounts;
    try {
      await placeContainer(root, record, request.name);
    } catch (error) {
      await removeUnusedVolumesLocked(root, created);
      throw error;
    }
  });
  return record;
}

/** The containers `--volumes-from` names (Docker's "No such container" is run's 125) and the rest. */
async function mountPlan(root: string, request: CreateRequest, imageVolumes: string[]): Promise<MountPlan> {
  const volumesFrom: MountPlan['volumesFrom'][number][] = [];
  for (const spec of request.volumesFrom ?? []) {
    const at = spec.lastIndexOf(':');
    const [ref, mode] = at < 0 ? [spec, ''] : [spec.slice(0, at), spec.slice(at + 1)];
    if (mode !== '' && mode !== 'ro' && mode !== 'rw') throw new RunError(`invalid mode: ${mode}`);
    const container = await findContainer(root, ref).catch((error: Error) => {
      throw new RunError(error.message, { cause: error });
    });
    volumesFrom.push({ container, mode });
  }
  return { requests: request.mounts, volumesFrom, imageVolumes };
}

/**
 * Picks the name and puts the container directory in place, under the names lock so that two
 * `create --name x` never both win. The directory is made under a temporary name and renamed.
 */
async function placeContainer(
  root: string,
  record: ContainerRecord,
  wanted: string | undefined,
): Promise<void> {
  mkdirSync(containersDir(root), { recursive: true, mode: privateDirMode });
  const lock = await acquireNamesLock(root);
  try {
    const taken = new Map((await listContainers(root)).map((c) => [c.record.Name, c.record.Id]));
    if (wanted !== undefined) {
      const bare = wanted.startsWith('/') ? wanted.slice(1) : wanted;
      if (!namePattern.test(bare)) {
        throw new RunError(`Invalid container name (${wanted}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      }
      const owner = taken.get(bare);
      if (owner !== undefined) {
        throw new RunError(
          `Conflict. The container name "/${bare}" is already in use by container "${owner}". You have to remove (or rename) that container to be able to reuse that name.`,
          { exitCode: 125 },
        );
      }
      record.Name = bare;
    } else {
      let name = generateName();
      for (let retry = 1; taken.has(name); retry++) {
        name = generateName(retry);
      }
      record.Name = name;
    }
    const tmp = join(containersDir(root), `.tmp-${record.Id}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { mode: privateDirMode });
    const paths = containerPaths(tmp, record.Id);
    mkdirSync(paths.exitDir, { mode: privateDirMode });
    mkdirSync(paths.bundle, { mode: privateDirMode });
    writeJsonAtomic(paths.state, initialState());
    writeJsonAtomic(paths.record, record);
    renameSync(tmp, join(containersDir(root), record.Id));
  } finally {
    await lock.release();
  }
}
