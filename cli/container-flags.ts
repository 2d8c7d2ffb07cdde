/**
 * The flags `run` and `create` share (Docker's spellings and defaults), and how they become a
 * runtime CreateRequest. They are read by cli/flags.ts parseCommandLine with `stopAtPositional`:
 * Docker stops reading flags at the image name, so everything after it is the command, even words
 * that look like flags (`tbuild run img ls -l`).
 */
import { readFile } from 'node:fs/promises';
import { TbuildError, UsageError } from '../errors.ts';
import { ExecError, parseSeccompProfile, type SeccompProfile } from '../executor/index.ts';
import { type CreateRequest, checkExtraHost, parseVolumeFlag, type RestartPolicy } from '../runtime/index.ts';
import { readEnvFiles } from './env-file.ts';
import { type CommandLine, commandUsageError, intFlag } from './flags.ts';
import { parseMountFlag } from './mount-flag.ts';

export const containerOptions = {
  detach: { type: 'boolean', short: 'd' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  rm: { type: 'boolean' },
  env: { type: 'string', short: 'e', multiple: true },
  'env-file': { type: 'string', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  volume: { type: 'string', short: 'v', multiple: true },
  mount: { type: 'string', multiple: true },
  'volumes-from': { type: 'string', multiple: true },
  network: { type: 'string' },
  'network-alias': { type: 'string', multiple: true },
  ip: { type: 'string' },
  'add-host': { type: 'string', multiple: true },
  publish: { type: 'string', short: 'p', multiple: true },
  'publish-all': { type: 'boolean', short: 'P' },
  expose: { type: 'string', multiple: true },
  name: { type: 'string' },
  hostname: { type: 'string', short: 'h' },
  label: { type: 'string', short: 'l', multiple: true },
  restart: { type: 'string' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  'security-opt': { type: 'string', multiple: true },
  'detach-keys': { type: 'string' },
  'sig-proxy': { type: 'boolean', default: true },
} as const;

export type ContainerFlagValues = CommandLine<typeof containerOptions>['values'];

/** Docker's `--restart` values: no, always, unless-stopped, on-failure[:N]. */
export function parseRestartPolicy(value: string | undefined): RestartPolicy {
  if (value === undefined || value === 'no') return { Name: 'no', MaximumRetryCount: 0 };
  const [name, count] = value.split(':');
  if ((name === 'always' || name === 'unless-stopped') && count === undefined) {
    return { Name: name, MaximumRetryCount: 0 };
  }
  if (name === 'on-failure' && (count === undefined || /^\d+$/.test(count))) {
    return { Name: 'on-failure', MaximumRetryCount: Number(count ?? 0) };
  }
  if (name === 'always' || name === 'unless-stopped') {
    throw new UsageError(
      `invalid restart policy: maximum retry count cannot be used with restart policy '${name}'`,
    );
  }
  throw new UsageError(`invalid restart policy format: ${value}`);
}

/** Docker's `-l k=v` (and `-l k`, an empty value). */
export function parseLabels(values: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const entry of values ?? []) {
    const eq = entry.indexOf('=');
    if (eq === 0) throw new UsageError(`invalid label: ${entry}`);
    if (eq < 0) labels[entry] = '';
    else labels[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return labels;
}

/** The runtime request for these flags, image and command. */
export async function toCreateRequest(
  command: string,
  root: string,
  values: ContainerFlagValues,
  image: string,
  args: string[],
): Promise<CreateRequest> {
  const seccomp = await seccompOption(values['security-opt'] ?? []);
  // docker-cli reads env files while parsing its flags: a failure is a flag error (125).
  const fromFiles = await readEnvFiles(values['env-file'] ?? []).catch((error: unknown) => {
    throw error instanceof TbuildError ? commandUsageError(command, error.message) : error;
  });
  const stopTimeout =
    values['stop-timeout'] === undefined
      ? undefined
      : intFlag(command, { long: 'stop-timeout' }, values['stop-timeout']);
  const restart = parseRestartPolicy(values.restart);
  if (values.rm && restart.Name !== 'no') throw new UsageError('Conflicting options: --restart and --rm');
  return {
    root,
    image,
    args,
    env: [...fromFiles, ...(values.env ?? [])],
    ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint } : {}),
    ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.hostname !== undefined ? { hostname: values.hostname } : {}),
    ...(values['stop-signal'] !== undefined ? { stopSignal: values['stop-signal'] } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    mounts: [
      ...(values.volume ?? []).map((v) => parseVolumeFlag(v, process.cwd())),
      ...(values.mount ?? []).map((m) => parseMountFlag(command, m, process.cwd())),
    ],
    volumesFrom: values['volumes-from'] ?? [],
    ...(values.network !== undefined ? { network: values.network } : {}),
    aliases: values['network-alias'] ?? [],
    ...(values.ip !== undefined ? { ip: values.ip } : {}),
    publish: values.publish ?? [],
    publishAll: values['publish-all'] === true,
    expose: values.expose ?? [],
    extraHosts: (values['add-host'] ?? []).map((entry) => extraHost(command, entry)),
    labels: parseLabels(values.label),
    tty: values.tty === true,
    openStdin: values.interactive === true,
    // Docker's CLI: a foreground run (and create) attaches stdout and stderr, and stdin with -i,
    // whose end then closes the container's stdin (StdinOnce); `run -d` attaches nothing.
    attach: {
      stdin: values.detach !== true && values.interactive === true,
      stdout: values.detach !== true,
      stderr: values.detach !== true,
      stdinOnce: values.detach !== true && values.interactive === true,
    },
    autoRemove: values.rm === true,
    restart,
    ...(seccomp === undefined ? {} : { seccomp }),
  };
}

/** Docker's `--add-host` flag check: a flag value error (125), before anything is looked up. */
function extraHost(command: string, entry: string): string {
  try {
    return checkExtraHost(entry);
  } catch (error) {
    throw commandUsageError(command, (error as Error).message);
  }
}

/**
 * `--security-opt`: only `seccomp=` is supported. Like the docker CLI, the profile file is read
 * here and handed on as a profile (docker cli/command/container/opts.go parseSecurityOpts);
 * `seccomp:VALUE` (the old separator) is accepted as Docker still does.
 */
export async function seccompOption(options: string[]): Promise<SeccompProfile | 'unconfined' | undefined> {
  let seccomp: SeccompProfile | 'unconfined' | undefined;
  for (const option of options) {
    const split = option.includes('=') ? option.indexOf('=') : option.indexOf(':');
    const key = split < 0 ? option : option.slice(0, split);
    const value = split < 0 ? '' : option.slice(split + 1);
    if (key !== 'seccomp') {
      throw new UsageError(`invalid --security-opt: ${JSON.stringify(option)}`, {
        hint: 'tbuild supports seccomp=unconfined and seccomp=PROFILE.json',
      });
    }
    if (value === 'unconfined') {
      seccomp = 'unconfined';
      continue;
    }
    if (value === '') throw new UsageError(`invalid --security-opt: ${JSON.stringify(option)}`);
    const text = await readFile(value, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`opening seccomp profile (${value}) failed: ${error.message}`);
    });
    try {
      seccomp = parseSeccompProfile(text);
    } catch (error) {
      if (error instanceof ExecError) throw new UsageError(error.message);
      throw error;
    }
  }
  return seccomp;
}
