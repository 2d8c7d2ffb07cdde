import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  createRuncExecutor,
  defaultPathEnv,
  ExecError,
  type ExecMount,
  type NetworkMode,
  type ProcessIO,
  type SeccompProfile,
} from '../executor/index.ts';
import {
  discardWritableRootfs,
  familiarString,
  ImageStore,
  imageSnapshotLayers,
  mountWritableRootfs,
  parseTaggedReference,
  type StoredImage,
  StoreError,
} from '../image/index.ts';
import { RunError } from './errors.ts';
import { claimName } from './names.ts';
import { type ProcessOverrides, resolveProcess } from './process.ts';
import { checkVolumeSources } from './volumes.ts';

/** Everything `tbuild run` needs to run one container in the foreground. */
export interface RunRequest extends ProcessOverrides {
  /** The tbuild root (image store, snapshots, runc state). */
  root: string;
  /** Image reference or ID. */
  image: string;
  /** Bind mounts (see parseVolume). */
  mounts: ExecMount[];
  network: NetworkMode;
  /** `--security-opt seccomp=…`: a profile in Docker's format, or `unconfined`; Docker's default when absent. */
  seccomp?: SeccompProfile | 'unconfined';
  /** `--name`: reserved while the container runs; two running containers cannot share it. */
  name?: string;
  /** Where `-e K` values come from; defaults to `process.env`. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  io: ProcessIO;
  /** Aborting kills the container; the promise then rejects with `signal.reason` after cleanup. */
  signal: AbortSignal;
}

/**
 * Runs a container from a stored image and resolves with its process's exit code. The root
 * filesystem is an overlay of the image's layer snapshots with a fresh upper directory under
 * `<root>/tmp`; the upper is removed when the process ends, so nothing is kept (tbuild has no
 * container store yet) and the image's snapshots are never written.
 */
export async function runContainer(request: RunRequest): Promise<{ exitCode: number }> {
  const store = await ImageStore.open(request.root);
  try {
    const image = await findImage(store, request.image);
    const id = randomBytes(32).toString('hex');
    const hostname = id.slice(0, 12);
    // Docker's base environment (moby container.CreateDaemonEnvironment): PATH and HOSTNAME.
    const base = [`PATH=${defaultPathEnv}`, `HOSTNAME=${hostname}`];
    const proc = resolveProcess(image.config.config, request, base, request.hostEnv ?? process.env);
    await checkVolumeSources(request.mounts);
    const release = request.name === undefined ? undefined : await claimName(request.root, request.name);
    try {
      request.signal.throwIfAborted();
      const rootfs = await mountWritableRootfs(request.root, store, imageSnapshotLayers(image));
      try {
        const executor = createRuncExecutor({ stateDir: join(request.root, 'runc') });
        return await executor
          .run(
            rootfs.path,
            request.mounts,
            {
              ...proc,
              hostname,
              network: request.network,
              primaryGroupSupplementary: true,
              ...(request.seccomp === undefined ? {} : { seccomp: request.seccomp }),
            },
            request.io,
            request.signal,
          )
          .catch((error: unknown) => {
            throw error instanceof ExecError ? toRunError(error) : error;
          });
      } finally {
        await discardWritableRootfs(rootfs);
      }
    } finally {
      await release?.();
    }
  } finally {
    await store.close();
  }
}

async function findImage(store: ImageStore, ref: string): Promise<StoredImage> {
  try {
    return await store.resolve(ref);
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    if (error.message.startsWith('invalid reference format')) throw new RunError(error.message);
    if (!error.message.startsWith('No such image')) throw new RunError(error.message, { cause: error });
    // Docker prints this, then pulls; tbuild has no registry client for `run` yet.
    let shown = ref;
    try {
      shown = familiarString(parseTaggedReference(ref));
    } catch {}
    throw new RunError(`Unable to find image '${shown}' locally`, {
      hint: 'build it (tbuild build -t NAME DIR) or load it (tbuild load -i IMAGE.tar); tbuild does not pull',
    });
  }
}

/**
 * Docker's exit codes for a command that could not start (moby daemon/start.go): 127 when the
 * executable is not found, 126 when it cannot be invoked, 125 otherwise.
 */
function toRunError(error: ExecError): RunError {
  // runc's own log line is already on stderr; keep just its reason for the one-line error.
  const reason = /unable to start container process: (.+?)"?\s*$/m.exec(error.message)?.[1];
  const text = reason
    ? `failed to start the container process: ${reason.replaceAll('\\"', '"')}`
    : error.message;
  const exitCode = /not found|no such file or directory/i.test(text)
    ? 127
    : /permission denied|exec format error/i.test(text)
      ? 126
      : 125;
  return new RunError(text, { exitCode, ...(error.hint ? { hint: error.hint } : {}), cause: error });
}
