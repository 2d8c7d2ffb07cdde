import type { SeccompProfile } from './seccomp.ts';

/**
 * The executor's contract: one process in a root filesystem. It knows nothing about graphs,
 * cache keys or snapshots; the caller mounts the rootfs (an overlay, a plain directory) and
 * passes the extra mounts in. Shapes follow BuildKit's executor/executor.go (`Meta`, `Mount`,
 * `ProcessInfo`), cut down to what a Dockerfile RUN needs.
 */

/** How the process reaches the network: `host` shares the host's, `none` gets only loopback. */
export type NetworkMode = 'none' | 'host';

/** What to run and as whom. */
export interface ExecMeta {
  /** argv; `args[0]` is looked up in the process PATH by the runtime. Must not be empty. */
  args: string[];
  /** `KEY=value` entries. A default PATH is added when none is present (BuildKit does the same). */
  env: string[];
  /** Absolute working directory inside the rootfs; created (owned by the user) if missing. */
  cwd: string;
  /** A Dockerfile USER value: `name`, `uid`, `name:group` or `uid:gid`; empty means root. */
  user: string;
  /** The sandbox hostname; defaults to {@link defaultHostname}. */
  hostname?: string;
  network: NetworkMode;
  /**
   * `sandbox` (the default): Docker's default capabilities and seccomp filter, masked /proc paths.
   * `insecure`: BuildKit's `RUN --security=insecure` (executor/oci/spec_linux.go,
   * entitlements.WithInsecureSpec): every capability, no seccomp filter, nothing masked or
   * read-only, writable /sys and cgroupfs, all devices allowed.
   */
  security?: 'sandbox' | 'insecure';
  /**
   * The seccomp profile of a sandboxed process, in Docker's format (`--security-opt
   * seccomp=PROFILE.json`), or `unconfined` for none. Docker's default profile when absent.
   */
  seccomp?: SeccompProfile | 'unconfined';
  /**
   * Whether the process and its children may gain privileges (setuid files, file capabilities).
   * Default true, as BuildKit's RUN (containerd's default spec, which its runc executor starts
   * from, sets noNewPrivileges). `docker run` leaves it off unless `--security-opt
   * no-new-privileges` (moby daemon/oci_linux.go), so containers pass false.
   */
  noNewPrivileges?: boolean;
  /**
   * List the primary gid first among the supplementary groups, as `docker run` does (moby
   * daemon/oci_linux.go getUser); BuildKit's RUN does not. Default false.
   */
  primaryGroupSupplementary?: boolean;
  /** `--add-host`: lines added to the sandbox's /etc/hosts after the default ones, in order. */
  extraHosts?: ExtraHost[];
  /** `--shm-size`: /dev/shm's size in bytes; 64 MiB when absent (containerd's default). */
  shmSize?: number;
  /** `--ulimit`: resource limits; a limit of -1 is unlimited. NOFILE replaces the default one. */
  ulimits?: Ulimit[];
  /**
   * Give the process a pseudo-terminal (the spec's `process.terminal`): the runtime then hands
   * the pty master to whoever passed `--console-socket` (a container monitor). Default false.
   */
  terminal?: boolean;
}

/** One `/etc/hosts` line: `ip<TAB>host` (BuildKit executor/oci/hosts.go). */
export interface ExtraHost {
  host: string;
  ip: string;
}

/** One rlimit, by Docker's name (`nofile`, `nproc`, `core`…): go-units Ulimit. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

/** An extra mount inside the sandbox, on top of the default /proc, /dev, /sys mounts. */
export interface ExecMount {
  /** Absolute path inside the container. */
  target: string;
  /** Host path (a directory or a file) for `bind`; ignored for `tmpfs`. */
  source: string;
  type: 'bind' | 'tmpfs';
  readonly: boolean;
  /** A tmpfs's size limit in bytes; the kernel's default (half of RAM) when absent. */
  size?: number;
}

/** Where the process output goes. Chunks arrive in order per stream; streams are separate pipes. */
export interface ProcessIO {
  stdout(chunk: Uint8Array): void;
  stderr(chunk: Uint8Array): void;
  /** `run -i`: the process's stdin is fed from this stream (no stdin when absent). */
  stdin?: NodeJS.ReadableStream;
  /**
   * `run -t`: runc gets this process's own stdin, stdout and stderr (`stdout`/`stderr` above are
   * then not called). With `terminal` set, runc in the foreground makes the pty itself, puts the
   * user's terminal in raw mode, relays both ways and passes window size changes on (runc
   * utils_linux.go setupIO / tty.go); nothing has to receive the pty master.
   */
  inheritStdio?: boolean;
}

/** Numeric identity of the process, resolved from {@link ExecMeta.user} against the rootfs. */
export interface ProcessIds {
  uid: number;
  gid: number;
  /** Supplementary groups (from /etc/group membership when the user was given by name only). */
  additionalGids: number[];
}

/**
 * Runs one process to completion. `rootfs` is a directory the executor may write into (the
 * working directory and, transiently, mount-point stubs it removes afterwards).
 * Resolves with the process exit code (128+n when killed by signal n). Rejects with an
 * `ExecError` when the sandbox could not be started, and with `signal.reason` when aborted
 * (after the process is killed and the container deleted).
 */
export interface Executor {
  /**
   * Starts setting up what runs on `network` will need (the shared `none` namespace), so that
   * the first such run does not wait for it. Optional; runs work without it.
   */
  prepare?(network: NetworkMode): void;
  run(
    rootfs: string,
    mounts: ExecMount[],
    meta: ExecMeta,
    io: ProcessIO,
    signal: AbortSignal,
  ): Promise<{ exitCode: number }>;
}

/** BuildKit uses `buildkitsandbox` (executor/oci/hosts.go); we keep the idea with our own name. */
export const defaultHostname = 'tbuildsandbox';

/** Used when the env has no PATH; the same value Docker and BuildKit use (`system.DefaultPathEnv`). */
export const defaultPathEnv = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
