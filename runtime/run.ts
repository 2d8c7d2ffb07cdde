import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
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
  ImageStore,
  imageSnapshotLayers,
  mountWritableRootfs,
} from '../image/index.ts';
import { RunError } from './errors.ts';
import { findImage } from './image-lookup.ts';
import { startError } from './monitor.ts';
import { claimName } from './names.ts';
import { type ProcessOverrides, resolveProcess } from './process.ts';
import type { MountRequest } from './volume/mount-request.ts';

/** Everything `tbuild run` needs to run one container in the foreground. */
export interface RunRequest extends ProcessOverrides {
  /** The tbuild root (image store, snapshots, runc state). */
  root: string;
  /** Image reference or ID. */
  image: string;
  /** Bind and tmpfs mounts; volumes need a kept container (run -d). */
  mounts: MountRequest[];
  volumesFrom?: string[];
  network: NetworkMode;
  /** `--security-opt seccomp=…`: a profile in Docker's format, or `unconfined`; Docker's default when absent. */
  seccomp?: SeccompProfile | 'unconfined';
  /** `--name`: reserved while the container runs; two running containers cannot share it. */
  name?: string;
  /** `-h`: the container's host name; the first 12 hex digits of its id when absent (Docker's). */
  hostname?: string;
  /** `-t`: a pseudo-terminal (with `io.inheritStdio`: runc relays it on the user's terminal). */
  terminal?: boolean;
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
    const hostname = request.hostname ?? id.slice(0, 12);
    // Docker's base environment (moby container.CreateDaemonEnvironment): PATH and HOSTNAME.
    const base = [`PATH=${defaultPathEnv}`, `HOSTNAME=${hostname}`];
    const proc = resolveProcess(image.config.config, request, base, request.hostEnv ?? process.env);
    const mounts = await foregroundMounts(request);
    const release = request.name === undefined ? undefined : await claimName(request.root, request.name);
    try {
      request.signal.throwIfAborted();
      const rootfs = await mountWritableRootfs(request.root, store, imageSnapshotLayers(image));
      try {
        const executor = createRuncExecutor({ stateDir: join(request.root, 'runc') });
        return await executor
          .run(
            rootfs.path,
            mounts,
            {
              ...proc,
              hostname,
              network: request.network,
              primaryGroupSupplementary: true,
              terminal: request.terminal === true,
              ...(request.terminal ? { env: [...proc.env, 'TERM=xterm'] } : {}),
              // As `docker run`: setuid files work in a container (RUN keeps BuildKit's default).
              noNewPrivileges: false,
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

/** The mounts a foreground run (no kept container, so no volumes) can have. */
async function foregroundMounts(request: RunRequest): Promise<ExecMount[]> {
  if (request.mounts.some((m) => m.type === 'volume') || (request.volumesFrom ?? []).length > 0) {
    throw new RunError('volumes need a kept container in tbuild: use run -d', {
      hint: 'a foreground run has bind and tmpfs mounts only',
    });
  }
  const mounts: ExecMount[] = [];
  for (const m of request.mounts) {
    if (m.type === 'bind') {
      await stat(m.source).catch(() => {
        throw new RunError(
          `invalid mount config for type "bind": bind source path does not exist: ${m.source}`,
        );
      });
    }
    mounts.push({
      type: m.type === 'tmpfs' ? 'tmpfs' : 'bind',
      source: m.source,
      target: m.target,
      readonly: m.readonly,
      ...(m.size === undefined ? {} : { size: m.size }),
    });
  }
  return mounts;
}

/** runc's failure to start the process, with Docker's exit codes (monitor.ts startError). */
function toRunError(error: ExecError): RunError {
  const failed = startError(error.message);
  return new RunError(failed.message, {
    exitCode: failed.exitCode,
    ...(error.hint ? { hint: error.hint } : {}),
    cause: error,
  });
}
