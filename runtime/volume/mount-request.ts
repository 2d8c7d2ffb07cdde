/**
 * What the user asked to mount, before any volume exists: `-v` (Docker's Binds) and `--mount`
 * (parsed by the CLI) both become a MountRequest; container-mounts.ts turns them into the
 * record's mounts at create. `-v` is parsed here as moby's volume/mounts/linux_parser.go
 * ParseMountRaw does: `DST` (an anonymous volume), `SRC:DST`, `SRC:DST:MODE`; an absolute SRC is
 * a bind (one starting with `.` too, resolved against the working directory as the docker CLI
 * does since 23.0), any other is a volume name, checked when the volume is made.
 */
import { isAbsolute, resolve } from 'node:path';
import { RunError } from '../errors.ts';

export interface MountRequest {
  type: 'bind' | 'volume' | 'tmpfs';
  /** bind: the host path; volume: the name, '' for a new anonymous one; tmpfs: ''. */
  source: string;
  target: string;
  readonly: boolean;
  /** volume: do not copy the image's content at `target` into a new volume. */
  noCopy: boolean;
  /** volume: labels for the volume when this mount creates it (`volume-label=`). */
  labels?: Record<string, string>;
  /** tmpfs: the size limit in bytes. */
  size?: number;
  /** Docker's MountPoint.Mode as inspect shows it. */
  mode: string;
  /** The `-v` text (Docker's HostConfig.Binds). */
  bind?: string;
}

/** Docker's -v modes (linux_parser.go): access, SELinux relabel (a no-op here), copy. */
const accessModes = ['ro', 'rw'];
const labelModes = ['z', 'Z'];
const copyModes = ['nocopy'];

/** Checks a container path as moby's parser does; `invalid` makes the error for a reason. */
export function checkMountTarget(target: string, invalid: (reason: string) => Error): void {
  if (!target.startsWith('/')) throw invalid(`invalid mount path: '${target}' mount path must be absolute`);
  if (target.split('/').every((s) => s === ''))
    throw invalid("invalid mount config: destination can't be '/'");
}

/** Parses one `-v` value. Pure but for `cwd`; volume names and bind sources are checked at create. */
export function parseVolumeFlag(spec: string, cwd: string): MountRequest {
  const invalidSpec = () =>
    new RunError(`invalid volume specification: '${spec}'`, {
      hint: 'use -v NAME:CONTAINER_PATH[:ro], -v HOST_PATH:CONTAINER_PATH[:ro] or -v CONTAINER_PATH',
    });
  const parts = spec.split(':');
  if (parts.length > 3 || parts.some((p, i) => p === '' && i < 2)) throw invalidSpec();
  let source = '';
  let target: string;
  let mode = '';
  if (parts.length === 1) target = parts[0] as string;
  else if (parts.length === 2) {
    // `/foo:ro` is a destination with a mode: volumes cannot take one without a source.
    if (
      (parts[1] as string).split(',').every((m) => [...accessModes, ...labelModes, ...copyModes].includes(m))
    )
      throw invalidSpec();
    [source, target] = parts as [string, string];
  } else [source, target, mode] = parts as [string, string, string];
  const invalid = (reason: string) => new RunError(`invalid volume specification: '${spec}': ${reason}`);
  checkMountTarget(target, invalid);
  const type = source === '' || !(isAbsolute(source) || source.startsWith('.')) ? 'volume' : 'bind';
  let readonly = false;
  let noCopy = false;
  for (const option of mode.split(',').filter((o) => o !== '')) {
    if (accessModes.includes(option)) readonly = option === 'ro';
    else if (labelModes.includes(option)) continue;
    else if (option === 'nocopy' && type === 'volume') noCopy = true;
    else
      throw new RunError(`invalid mode: ${option}`, { hint: `in -v ${spec}; modes: ro, rw, z, Z, nocopy` });
  }
  return {
    type,
    source: type === 'bind' ? resolve(cwd, source) : source,
    target,
    readonly,
    noCopy,
    // moby daemon/volumes.go registerMountPoints: a -v volume of the local driver shows mode "z".
    mode: type === 'volume' && mode === '' ? 'z' : mode,
    bind: spec,
  };
}
