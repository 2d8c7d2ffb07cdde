/**
 * The flags `run` and `create` share (Docker's spellings and defaults), and how they become a
 * runtime CreateRequest. Docker stops reading flags at the image name: everything after it is the
 * command, even words that look like flags (`tbuild run img ls -l`); parseArgs has no such mode,
 * so the split is made first.
 */
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.ts';
import type { NetworkMode } from '../executor/index.ts';
import { type CreateRequest, parseVolume, type RestartPolicy } from '../runtime/index.ts';

export const containerOptions = {
  detach: { type: 'boolean', short: 'd' },
  interactive: { type: 'boolean', short: 'i' },
  tty: { type: 'boolean', short: 't' },
  rm: { type: 'boolean' },
  env: { type: 'string', short: 'e', multiple: true },
  workdir: { type: 'string', short: 'w' },
  user: { type: 'string', short: 'u' },
  entrypoint: { type: 'string' },
  volume: { type: 'string', short: 'v', multiple: true },
  network: { type: 'string' },
  name: { type: 'string' },
  hostname: { type: 'string', short: 'h' },
  label: { type: 'string', short: 'l', multiple: true },
  restart: { type: 'string' },
  'stop-signal': { type: 'string' },
  'stop-timeout': { type: 'string' },
  help: { type: 'boolean' },
} as const;

export type ContainerFlagValues = ReturnType<
  typeof parseArgs<{ options: typeof containerOptions }>
>['values'];

/** Options that take a value as the next word (`-e K=V`), so that word is not the image. */
const valueFlags = new Set(
  Object.entries(containerOptions).flatMap(([long, o]) =>
    o.type === 'string' ? [`--${long}`, ...('short' in o ? [`-${o.short}`] : [])] : [],
  ),
);

/** Splits argv at the image: flags before, image and command after. */
export function splitAtImage(argv: string[]): { flags: string[]; rest: string[] } {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') return { flags: argv.slice(0, i), rest: argv.slice(i + 1) };
    if (!arg.startsWith('-') || arg === '-') return { flags: argv.slice(0, i), rest: argv.slice(i) };
    // `-it`, `-dit`: only the last letter of a group can take a value.
    const last = arg.startsWith('--') ? arg : `-${arg.slice(-1)}`;
    if (!arg.includes('=') && (valueFlags.has(arg) || valueFlags.has(last))) i++;
  }
  return { flags: argv, rest: [] };
}

/** Parses the flags of `run`/`create`; usage errors name the command. */
export function parseContainerFlags(command: string, flags: string[]): ContainerFlagValues {
  try {
    return parseArgs({ args: flags, options: containerOptions, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message, { hint: `See 'tbuild ${command} --help'.` });
  }
}

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

export function parseNetwork(value: string | undefined): NetworkMode {
  const network = value ?? 'host';
  if (network !== 'host' && network !== 'none') {
    throw new UsageError(`network mode "${network}" not supported by tbuild`, { hint: 'use host or none' });
  }
  return network;
}

/** The runtime request for these flags, image and command. */
export function toCreateRequest(
  root: string,
  values: ContainerFlagValues,
  image: string,
  args: string[],
): CreateRequest {
  let stopTimeout: number | undefined;
  if (values['stop-timeout'] !== undefined) {
    if (!/^-?\d+$/.test(values['stop-timeout'])) {
      throw new UsageError(`invalid argument "${values['stop-timeout']}" for "--stop-timeout" flag`);
    }
    stopTimeout = Number(values['stop-timeout']);
  }
  const restart = parseRestartPolicy(values.restart);
  if (values.rm && restart.Name !== 'no') throw new UsageError('Conflicting options: --restart and --rm');
  return {
    root,
    image,
    args,
    env: values.env ?? [],
    ...(values.entrypoint !== undefined ? { entrypoint: values.entrypoint } : {}),
    ...(values.workdir !== undefined ? { workdir: values.workdir } : {}),
    ...(values.user !== undefined ? { user: values.user } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(values.hostname !== undefined ? { hostname: values.hostname } : {}),
    ...(values['stop-signal'] !== undefined ? { stopSignal: values['stop-signal'] } : {}),
    ...(stopTimeout !== undefined ? { stopTimeout } : {}),
    mounts: (values.volume ?? []).map((v) => parseVolume(v, process.cwd())),
    network: parseNetwork(values.network),
    labels: parseLabels(values.label),
    tty: values.tty === true,
    openStdin: values.interactive === true,
    autoRemove: values.rm === true,
    restart,
  };
}
