import { defaultPathEnv } from '../executor/index.ts';
import type { ContainerConfig } from '../image/index.ts';
import { RunError } from './errors.ts';

/** What `tbuild run` flags and trailing arguments say about the process; unset = the image's. */
export interface ProcessOverrides {
  /** `--entrypoint`: replaces the image ENTRYPOINT and clears its CMD; `''` means none. */
  entrypoint?: string;
  /** Arguments after IMAGE: replace the CMD when not empty. */
  args: string[];
  /** `-e` values in order: `K=V` sets, `K` alone takes the host's value (or unsets K when the host has none). */
  env: string[];
  /** `-w`: absolute working directory. */
  workdir?: string;
  /** `-u`: `name`, `uid`, `name:group` or `uid:gid`. */
  user?: string;
}

/**
 * The process a container runs, as its record's Config keeps it: argv, the environment of the
 * image and `-e` (not yet the daemon's PATH/HOSTNAME/TERM: {@link daemonEnvironment}), the
 * working directory (`''` when neither image nor `-w` set one, as Docker's Config.WorkingDir),
 * user.
 */
export interface ContainerProcess {
  args: string[];
  env: string[];
  cwd: string;
  user: string;
}

/**
 * Docker's rules for the container process (moby daemon/create.go `merge` and the CLI's
 * `--entrypoint` handling): an `--entrypoint` replaces the image ENTRYPOINT and drops the image
 * CMD; arguments after the image replace CMD; argv is ENTRYPOINT followed by CMD and must not be
 * empty. The environment is the image Env, then the `-e` values (moby's merge keeps the daemon's
 * own variables out of Config.Env). Pure: the host environment is passed in.
 */
export function resolveProcess(
  config: ContainerConfig | undefined,
  overrides: ProcessOverrides,
  hostEnv: Readonly<Record<string, string | undefined>>,
): ContainerProcess {
  let entrypoint: string[];
  let cmd: string[];
  if (overrides.entrypoint !== undefined) {
    entrypoint = overrides.entrypoint === '' ? [] : [overrides.entrypoint];
    cmd = overrides.args;
  } else {
    entrypoint = config?.Entrypoint ?? [];
    cmd = overrides.args.length > 0 ? overrides.args : (config?.Cmd ?? []);
  }
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw new RunError('no command specified', {
      hint: 'the image has no ENTRYPOINT or CMD: give a command after the image name',
    });
  }
  const cwd = overrides.workdir ?? config?.WorkingDir ?? '';
  if (cwd !== '' && !cwd.startsWith('/')) {
    throw new RunError(`the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  }
  const env = applyEnv(config?.Env ?? [], overrides.env, hostEnv);
  return { args, env, cwd, user: overrides.user ?? config?.User ?? '' };
}

/**
 * `-e` (and `--env-file`) values over an environment, in order: `K=V` sets; `K` alone takes the
 * host's value (Docker's CLI), and when the host has none removes K (moby's
 * ReplaceOrAppendEnvValues).
 */
export function applyEnv(
  env: readonly string[],
  overrides: readonly string[],
  hostEnv: Readonly<Record<string, string | undefined>>,
): string[] {
  let out = [...env];
  for (const entry of overrides) {
    const eq = entry.indexOf('=');
    if (eq === 0 || entry === '') throw new RunError(`invalid environment variable: ${entry}`);
    if (eq > 0) {
      out = mergeEnv(out, [entry]);
      continue;
    }
    const value = hostEnv[entry];
    out = value === undefined ? out.filter((e) => envKey(e) !== entry) : mergeEnv(out, [`${entry}=${value}`]);
  }
  return out;
}

/**
 * The environment a container's process (or an exec's, with the exec's `tty`) starts with:
 * moby's Container.CreateDaemonEnvironment, PATH and HOSTNAME (and TERM=xterm on a terminal)
 * overridden by the container's Config.Env. Docker adds them at start, so inspect's Config.Env
 * and a committed image do not carry them.
 */
export function daemonEnvironment(
  config: { Hostname: string; Env: readonly string[] },
  tty: boolean,
): string[] {
  const base = [`PATH=${defaultPathEnv}`, `HOSTNAME=${config.Hostname}`, ...(tty ? ['TERM=xterm'] : [])];
  return mergeEnv(base, config.Env);
}

/** `KEY=value` lists: entries of `over` replace same-key entries of `base` in place, others append. */
export function mergeEnv(base: readonly string[], over: readonly string[]): string[] {
  const out = [...base];
  for (const entry of over) {
    const key = envKey(entry);
    const i = out.findIndex((e) => envKey(e) === key);
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
  return out;
}

function envKey(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}
