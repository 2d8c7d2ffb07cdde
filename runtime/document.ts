/**
 * The `docker container inspect` document of a container (moby api/types ContainerJSON), built
 * from its record and state. Fields tbuild has no notion of (AppArmor, SELinux labels, networks
 * of their own) are left out rather than faked; the ones kept carry Docker's names and types.
 */
import { join } from 'node:path';
import type { Container } from './container.ts';
import { containerPaths } from './container-store.ts';
import { networkSettingsDocument } from './network/settings.ts';
import type { ContainerMount } from './volume/container-mount.ts';

export function containerDocument(container: Container): Record<string, unknown> {
  const { record, state, dir } = container;
  const paths = containerPaths(dir, record.Id);
  const { Mounts, ...hostConfig } = record.HostConfig;
  return {
    Id: record.Id,
    Created: record.Created,
    Path: record.Path,
    Args: record.Args,
    State: {
      Status: state.Status,
      Running: state.Status === 'running' || state.Status === 'paused',
      Paused: state.Status === 'paused',
      Restarting: state.Status === 'restarting',
      OOMKilled: false,
      Dead: state.Status === 'dead',
      Pid: state.Pid,
      ExitCode: state.ExitCode,
      Error: state.Error,
      StartedAt: state.StartedAt,
      FinishedAt: state.FinishedAt,
    },
    Image: record.ImageId,
    ResolvConfPath: join(paths.bundle, 'resolv.conf'),
    HostnamePath: join(paths.bundle, 'hostname'),
    HostsPath: join(paths.bundle, 'hosts'),
    LogPath: paths.log,
    Name: `/${record.Name}`,
    RestartCount: state.RestartCount,
    Driver: 'overlay',
    Platform: 'linux',
    HostConfig: { ...hostConfig, Binds: Mounts.flatMap((m) => (m.bind === undefined ? [] : [m.bind])) },
    Mounts: Mounts.map(mountDocument),
    NetworkSettings: networkSettingsDocument(container),
    Config: {
      Hostname: record.Config.Hostname,
      Domainname: '',
      User: record.Config.User,
      AttachStdin: record.Config.AttachStdin === true,
      AttachStdout: record.Config.AttachStdout === true,
      AttachStderr: record.Config.AttachStderr === true,
      Tty: record.Config.Tty,
      OpenStdin: record.Config.OpenStdin,
      StdinOnce: record.Config.StdinOnce === true,
      Env: record.Config.Env,
      Cmd: record.Config.Cmd,
      Image: record.Config.Image,
      Volumes: null,
      WorkingDir: record.Config.WorkingDir,
      Entrypoint: record.Config.Entrypoint,
      OnBuild: null,
      Labels: record.Config.Labels,
      StopSignal: record.Config.StopSignal,
      ...(record.Config.StopTimeout === undefined ? {} : { StopTimeout: record.Config.StopTimeout }),
    },
  };
}

/**
 * Docker's MountPoint as inspect shows it (moby api/types MountPoint): a volume has its Name and
 * Driver, a bind its rprivate propagation; Mode is what `-v` said (`z` for a `-v` volume).
 */
function mountDocument(m: ContainerMount): Record<string, unknown> {
  const mode = { Mode: m.mode ?? (m.readonly ? 'ro' : ''), RW: !m.readonly };
  if (m.volume !== undefined) {
    const { name } = m.volume;
    return {
      Type: 'volume',
      Name: name,
      Source: m.source,
      Destination: m.target,
      Driver: 'local',
      ...mode,
      Propagation: '',
    };
  }
  if (m.type === 'tmpfs')
    return { Type: 'tmpfs', Source: '', Destination: m.target, ...mode, Propagation: '' };
  return { Type: 'bind', Source: m.source, Destination: m.target, ...mode, Propagation: 'rprivate' };
}
