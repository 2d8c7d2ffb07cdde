/**
 * A container on disk: plain data, written as JSON under `<root>/containers/<id>/`. The record
 * (`container.json`) is what `create` decided and never changes afterwards except by `rename`;
 * the state (`state.json`) is what happened since. Field names follow Docker's inspect output
 * (moby api/types ContainerJSON) so that `inspect` and `--format` can show them as they are.
 *
 * The truth about a running container is not the state file alone: each command that reads it
 * checks the monitor (conmon) and its exit file (monitor.ts), so a monitor or container killed
 * with -9 is seen as exited the next time anyone looks.
 */
import type { SnapshotLayer } from '../image/index.ts';
import type { EndpointsConfig } from './network/container-config.ts';
import type { PortBindings } from './network/ports.ts';
import type { ContainerMount } from './volume/container-mount.ts';

/** Docker's restart policies (`--restart no|on-failure[:N]|always|unless-stopped`). */
export interface RestartPolicy {
  Name: 'no' | 'on-failure' | 'always' | 'unless-stopped';
  MaximumRetryCount: number;
}

/** `container.json`: what the container is. */
export interface ContainerRecord {
  /** 64 hex digits. */
  Id: string;
  /** Without Docker's leading `/`. */
  Name: string;
  /** RFC 3339 with nanoseconds, UTC. */
  Created: string;
  /** The image as the user named it (`busybox`, `sha256:…`); `ps` shows it. */
  Image: string;
  /** The image's config digest, `sha256:…`. */
  ImageId: string;
  /** argv[0] and the rest, as Docker's Path and Args. */
  Path: string;
  Args: string[];
  Config: {
    Hostname: string;
    User: string;
    Env: string[];
    Cmd: string[] | null;
    Entrypoint: string[] | null;
    WorkingDir: string;
    Labels: Record<string, string>;
    Tty: boolean;
    OpenStdin: boolean;
    /**
     * Docker's attach flags: the streams a foreground `run` (or `create`) attaches; all false
     * for `run -d`. Absent in records made before they were kept (read as false).
     */
    AttachStdin?: boolean;
    AttachStdout?: boolean;
    AttachStderr?: boolean;
    /**
     * `run -i` / `create -i`: the container's stdin closes when the first attached client ends
     * its input (Docker closes it only without a terminal; the monitor is told so at start).
     */
    StdinOnce?: boolean;
    StopSignal: string;
    /** Seconds; undefined = Docker's default of 10. */
    StopTimeout?: number;
    Image: string;
  };
  HostConfig: {
    /** `bridge`, `host`, `none`, `container:<id>` or a network's name (runtime/network/). */
    NetworkMode: string;
    /** `--add-host NAME:IP` entries (IP may be `host-gateway`). */
    ExtraHosts?: string[];
    /** `-p`/`-P`: Docker's PortBindings (`{"80/tcp": [{HostIp, HostPort}]}`). */
    PortBindings?: PortBindings;
    /** Binds, volumes (a bind of the volume's `_data`) and tmpfs mounts, in mount order. */
    Mounts: ContainerMount[];
    AutoRemove: boolean;
    RestartPolicy: RestartPolicy;
    /**
     * Docker's form: `seccomp=unconfined`, or `seccomp=<the profile's JSON>` (the docker CLI
     * sends the file's content, not its path); absent or empty = Docker's default profile.
     */
    SecurityOpt?: string[];
  };
  /** The networks it joins when it starts, by name (Docker's NetworkSettings.Networks, configured part). */
  Networks?: EndpointsConfig;
  /** The image layers the root filesystem stands on, base first. */
  Layers: SnapshotLayer[];
}

export type ContainerStatus =
  | 'created'
  | 'running'
  | 'paused'
  | 'restarting'
  | 'removing'
  | 'exited'
  | 'dead';

/** `state.json`: what happened to the container (Docker's State, plus the monitor's identity). */
export interface ContainerState {
  Status: ContainerStatus;
  /** The container's init process on the host, 0 when not running. */
  Pid: number;
  ExitCode: number;
  Error: string;
  /** RFC 3339 with nanoseconds; Docker's zero time when never. */
  StartedAt: string;
  FinishedAt: string;
  RestartCount: number;
  /** Set by `stop`/`kill`: a restart policy other than `on-failure` does not bring it back. */
  ManuallyStopped: boolean;
  /** The monitor: its pid and its start time in clock ticks since boot (a reused pid differs). */
  MonitorPid: number;
  MonitorStartTicks: number;
}

/** Docker's zero time, for StartedAt/FinishedAt of a container that never ran or never stopped. */
export const zeroTime = '0001-01-01T00:00:00Z';

export function initialState(): ContainerState {
  return {
    Status: 'created',
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: zeroTime,
    FinishedAt: zeroTime,
    RestartCount: 0,
    ManuallyStopped: false,
    MonitorPid: 0,
    MonitorStartTicks: 0,
  };
}

/** A container as commands see it: record, state, and where it lives. */
export interface Container {
  record: ContainerRecord;
  state: ContainerState;
  dir: string;
}
