// The instructions that change the image config (and WORKDIR, which also makes its directory):
// ARG, ENV, LABEL, USER, STOPSIGNAL, MAINTAINER, WORKDIR, EXPOSE, VOLUME, SHELL, CMD, ENTRYPOINT,
// HEALTHCHECK, ONBUILD. Each changes the stage state and records BuildKit's history text for it.
// BuildKit: dockerfile2llb convert.go (dispatchEnv, dispatchArg, dispatchWorkdir, …).
import { posix } from 'node:path';
import { type Command, expandWords, type ShellOrExec } from '../parser/index.ts';
import { compareCodePoints } from './context-walk.ts';
import type { ContainerConfig } from './convert-types.ts';
import {
  addStep,
  type ConvertContext,
  expandInStage,
  joinWorkdir,
  location,
  recordHistory,
  type StageState,
  stageExpandEnv,
} from './dispatch-state.ts';
import { BuildError } from './errors.ts';
import { parseExposedPorts } from './ports.ts';

type CommandOf<K extends Command['kind']> = Extract<Command, { kind: K }>;

export function dispatchArg(ctx: ConvertContext, state: StageState, command: CommandOf<'arg'>): void {
  const at = location(ctx, command.range);
  const { buildArgs } = ctx.options;
  for (const { key, value } of command.args) {
    let resolved: string | undefined;
    if (key in buildArgs) resolved = buildArgs[key];
    else if (value !== undefined) resolved = expandInStage(ctx, state, value, at);
    else if (ctx.metaArgs.has(key)) resolved = ctx.metaArgs.get(key);
    else if (ctx.platformArgs.has(key)) resolved = ctx.platformArgs.get(key);
    state.args.set(key, resolved);
  }
  // As current BuildKit writes it (dockerfile2llb/convert.go dispatchArg): `ARG KEY=value`
  // with the value in effect (a --build-arg, the expanded default or the global one), bare
  // `ARG KEY` when there is none. Docker 20.10's BuildKit wrote the Dockerfile's default
  // only; current BuildKit decides, so a --build-arg value is in the history, as `docker
  // history` shows it: secrets go through --secret (the SecretsUsedInArgOrEnv check warns).
  const shown = command.args.map(({ key }) => {
    const v = state.args.get(key);
    return v === undefined ? key : `${key}=${v}`;
  });
  recordHistory(ctx, state, `ARG ${shown.join(' ')}`);
}

/** ENV and LABEL: `key=value` pairs. */
export function dispatchEnvOrLabel(
  ctx: ConvertContext,
  state: StageState,
  command: CommandOf<'env' | 'label'>,
): void {
  const at = location(ctx, command.range);
  // Every pair expands against the env from before this instruction (BuildKit expands the
  // whole command first): `ENV A=1 B=$A` leaves B empty unless A was already set.
  const pairs = command.pairs.map(
    ([k, v]) => [expandInStage(ctx, state, k, at), expandInStage(ctx, state, v, at)] as const,
  );
  if (command.kind === 'env') {
    for (const [key, value] of pairs) setEnv(state.config, key, value);
  } else {
    state.config.Labels ??= {};
    for (const [key, value] of pairs) state.config.Labels[key] = value;
  }
  const keyword = command.kind.toUpperCase();
  recordHistory(ctx, state, `${keyword} ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
}

/** USER, STOPSIGNAL and MAINTAINER: one value. */
export function dispatchValue(
  ctx: ConvertContext,
  state: StageState,
  command: CommandOf<'user' | 'stopsignal' | 'maintainer'>,
): void {
  const at = location(ctx, command.range);
  switch (command.kind) {
    case 'user':
      state.config.User = expandInStage(ctx, state, command.value, at);
      recordHistory(ctx, state, `USER ${state.config.User}`);
      return;
    case 'stopsignal':
      state.config.StopSignal = expandInStage(ctx, state, command.value, at);
      recordHistory(ctx, state, `STOPSIGNAL ${state.config.StopSignal}`);
      return;
    case 'maintainer':
      state.author = command.value;
      recordHistory(ctx, state, `MAINTAINER ${command.value}`);
      return;
  }
}

export function dispatchWorkdir(ctx: ConvertContext, state: StageState, command: CommandOf<'workdir'>): void {
  // BuildKit's system.NormalizeWorkdir: a relative path is joined (and cleaned) onto the
  // current one; an absolute one is kept as written, trailing slash included.
  const requested = expandInStage(ctx, state, command.value, location(ctx, command.range));
  // Go's path.Join cleans, so a relative one loses a trailing slash.
  state.config.WorkingDir = requested.startsWith('/')
    ? requested
    : joinWorkdir(state.config.WorkingDir ?? '', requested);
  const path = posix.resolve(state.config.WorkingDir);
  const owner = state.config.User || undefined;
  const step = addStep(ctx, state, { type: 'mkdir', path, ...(owner ? { owner } : {}) }, [state.fs], command);
  recordHistory(ctx, state, `WORKDIR ${state.config.WorkingDir}`, step);
}

export function dispatchExpose(ctx: ConvertContext, state: StageState, command: CommandOf<'expose'>): void {
  const at = location(ctx, command.range);
  state.config.ExposedPorts ??= {};
  const ports: string[] = [];
  for (const value of command.values) {
    for (const spec of expandWords(value, stageExpandEnv(state), { escapeChar: ctx.options.escape })) {
      try {
        ports.push(...parseExposedPorts(spec));
      } catch (error) {
        throw new BuildError((error as Error).message, at);
      }
    }
  }
  for (const port of ports) state.config.ExposedPorts[port] = {};
  // BuildKit prints the port set with Go's %v, which sorts a map's keys.
  const portSet = [...new Set(ports)].sort(compareCodePoints);
  recordHistory(ctx, state, `EXPOSE map[${portSet.map((p) => `${p}:{}`).join(' ')}]`);
}

export function dispatchVolume(ctx: ConvertContext, state: StageState, command: CommandOf<'volume'>): void {
  const at = location(ctx, command.range);
  state.config.Volumes ??= {};
  const paths = command.values.map((value) => expandInStage(ctx, state, value, at));
  for (const path of paths) {
    if (path === '') throw new BuildError('VOLUME specified can not be an empty string', at);
    state.config.Volumes[path] = {};
  }
  recordHistory(ctx, state, `VOLUME [${paths.join(' ')}]`);
}

/** SHELL, CMD and ENTRYPOINT: a command in shell or exec form. */
export function dispatchCommandForm(
  ctx: ConvertContext,
  state: StageState,
  command: CommandOf<'shell' | 'cmd' | 'entrypoint'>,
): void {
  switch (command.kind) {
    case 'shell':
      state.shell = commandArgs(command.cmd, state.shell);
      state.config.Shell = state.shell;
      // BuildKit: fmt.Sprintf("SHELL %v", shell), a Go slice printed bare: `[/bin/sh -c]`.
      recordHistory(ctx, state, `SHELL [${state.shell.join(' ')}]`);
      return;
    case 'cmd':
      state.config.Cmd = commandArgs(command.cmd, state.shell);
      state.cmdSet = true;
      recordHistory(ctx, state, `CMD ${goQuotedList(state.config.Cmd)}`);
      return;
    case 'entrypoint':
      state.config.Entrypoint = commandArgs(command.cmd, state.shell);
      // An ENTRYPOINT clears a CMD inherited from the base (BuildKit dispatchEntrypoint).
      // BuildKit's config leaves the cleared Cmd out (omitempty), it does not write null.
      if (!state.cmdSet) delete state.config.Cmd;
      recordHistory(ctx, state, `ENTRYPOINT ${goQuotedList(state.config.Entrypoint)}`);
      return;
  }
}

export function dispatchHealthcheck(
  ctx: ConvertContext,
  state: StageState,
  command: CommandOf<'healthcheck'>,
): void {
  if (command.test === 'NONE') state.config.Healthcheck = { Test: ['NONE'] };
  else {
    const check: Record<string, unknown> = { Test: command.test };
    if (command.interval !== undefined) check.Interval = command.interval;
    if (command.timeout !== undefined) check.Timeout = command.timeout;
    if (command.startPeriod !== undefined) check.StartPeriod = command.startPeriod;
    if (command.startInterval !== undefined) check.StartInterval = command.startInterval;
    if (command.retries !== undefined) check.Retries = command.retries;
    state.config.Healthcheck = check;
  }
  recordHistory(ctx, state, `HEALTHCHECK ${JSON.stringify(state.config.Healthcheck)}`);
}

export function dispatchOnbuild(state: StageState, command: CommandOf<'onbuild'>): void {
  const triggers = (state.config.OnBuild as string[] | undefined) ?? [];
  state.config.OnBuild = [...triggers, command.trigger];
  // No history entry: BuildKit's dispatchOnbuild commits none (the classic builder did).
}

function commandArgs(cmd: ShellOrExec, shell: string[]): string[] {
  return cmd.form === 'exec' ? cmd.argv : [...shell, cmd.line];
}

/**
 * A list as Go's `%q` prints a []string (BuildKit's CMD and ENTRYPOINT history): each item
 * double-quoted, separated by spaces, `["a" "b"]`. JSON string quoting is Go's for the printable
 * text a Dockerfile holds.
 */
function goQuotedList(items: readonly string[] | undefined): string {
  return `[${(items ?? []).map((item) => JSON.stringify(item)).join(' ')}]`;
}

/** Sets `key` in place when it is already there, else appends it (BuildKit's addEnv keeps the order). */
function setEnv(config: ContainerConfig, key: string, value: string): void {
  const env = [...(config.Env ?? [])];
  const at = env.findIndex((entry) => entry.split('=')[0] === key);
  if (at < 0) env.push(`${key}=${value}`);
  else env[at] = `${key}=${value}`;
  config.Env = env;
}
