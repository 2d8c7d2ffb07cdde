// FROM and stages: the ARGs before the first FROM, the target stage, a stage's starting state
// (scratch, an earlier stage or a base image, with the base's ONBUILD triggers), and what a
// `--from` names. BuildKit: dockerfile2llb convert.go (toDispatchState, dispatchOnBuildTriggers).
import {
  type ArgCommand,
  type Command,
  parseDockerfile,
  type Stage,
  suggest,
  toInstructions,
} from '../parser/index.ts';
import { type Vertex, vertex } from '../solver/index.ts';
import type { ConvertOptions, Platform, ResolvedImage } from './convert-types.ts';
import {
  type ConvertContext,
  defaultShell,
  expand,
  location,
  newStageState,
  type StageState,
} from './dispatch-state.ts';
import { BuildError } from './errors.ts';
import { loadNamedContext } from './named-contexts.ts';

const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** `TARGETPLATFORM`, `TARGETOS`, … and the `BUILD*` twins (we build for the host platform). */
export function platformArgValues(platform: Platform): Map<string, string> {
  const full = `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
  const values = new Map<string, string>();
  for (const prefix of ['TARGET', 'BUILD']) {
    values.set(`${prefix}PLATFORM`, full);
    values.set(`${prefix}OS`, platform.os);
    values.set(`${prefix}ARCH`, platform.architecture);
    values.set(`${prefix}VARIANT`, platform.variant ?? '');
  }
  return values;
}

/** ARGs before the first FROM, in order: each may use the ones before it and the platform args. */
export function evaluateMetaArgs(
  metaArgs: ArgCommand[],
  options: ConvertOptions,
  platformArgs: Map<string, string>,
): Map<string, string | undefined> {
  const values = new Map<string, string | undefined>();
  for (const command of metaArgs) {
    const at = `${options.file}:${command.range.start.line}`;
    for (const { key, value } of command.args) {
      if (key in options.buildArgs) values.set(key, options.buildArgs[key]);
      else if (value !== undefined) {
        values.set(key, expand(value, argEnv(values, platformArgs), options.escape, at));
      } else values.set(key, undefined);
    }
  }
  return values;
}

/** The stage `--target` names, or the last one. */
export function findTarget(stages: Stage[], options: ConvertOptions): Stage {
  if (options.target === undefined) return stages[stages.length - 1] as Stage;
  const wanted = options.target.toLowerCase();
  const found = stages.filter((stage) => stage.name === wanted).pop();
  if (found) return found;
  const names = stages.flatMap((stage) => (stage.name ? [stage.name] : []));
  const guess = suggest(wanted, names);
  throw new BuildError(
    `target stage "${options.target}" could not be found${guess ? ` (did you mean ${guess}?)` : ''}`,
  );
}

/**
 * A stage's state right after its FROM, and the commands to dispatch on it: the base's ONBUILD
 * triggers first (they run right after FROM and are not passed on further), then the stage's own.
 */
export async function dispatchFrom(
  ctx: ConvertContext,
  stage: Stage,
): Promise<{ state: StageState; commands: Command[]; triggerCount: number }> {
  const at = location(ctx, stage.range);
  const displayName = ctx.stages.length > 1 ? `${stage.name ?? `stage-${stage.index}`} ` : '';
  const base = expand(stage.base, argEnv(ctx.metaArgs, ctx.platformArgs), ctx.options.escape, at);
  // A named context of the stage's own name replaces the whole stage: its FROM and every
  // instruction in it (dockerfile2llb buildDispatchStates marks such a stage dispatched).
  const replaced = stage.name === undefined ? undefined : loadNamedContext(ctx, stage.name, at);
  let state: StageState;
  const baseStage =
    replaced || base.toLowerCase() === 'scratch' ? undefined : stageByName(ctx, base, stage, at, false);
  let triggers: string[] = [];
  /** The base vertex is this stage's own (not an earlier stage's result): it takes the FROM step's name. */
  let ownBase = true;
  const named = replaced ?? (baseStage ? undefined : loadNamedContext(ctx, base, at));
  if (named) {
    const source = await named;
    state = source.image
      ? imageState(stage, displayName, source.fs, source.image)
      : newStageState(stage, displayName, source.fs, { Env: [defaultPath], WorkingDir: '/' });
    if (!replaced) triggers = (source.image?.config.config?.OnBuild as string[] | undefined) ?? [];
  } else if (base.toLowerCase() === 'scratch') {
    state = newStageState(stage, displayName, vertex({ type: 'scratch' }, [], 'scratch'), {
      Env: [defaultPath],
      WorkingDir: '/',
    });
  } else if (baseStage) {
    const parent = await ctx.convertStage(baseStage);
    state = newStageState(stage, displayName, parent.fs, structuredClone(parent.config));
    state.history = [...parent.history];
    if (parent.author !== undefined) state.author = parent.author;
    state.shell = parent.shell;
    state.args = new Map(parent.args);
    triggers = (parent.config.OnBuild as string[] | undefined) ?? [];
    ownBase = false;
  } else {
    const image = await ctx.options.resolveImage(base, at);
    const from = vertex({ type: 'image', ref: image.ref, manifest: image.manifest }, [], '', at);
    state = imageState(stage, displayName, from, image);
    triggers = (image.config.config?.OnBuild as string[] | undefined) ?? [];
  }
  ctx.checks?.stage(stage, baseStage);
  const triggerCommands = parseTriggers(triggers, ctx.options, at);
  delete state.config.OnBuild;
  const commands = replaced ? [] : [...triggerCommands, ...stage.commands];
  state.totalSteps = 1 + commands.filter(makesVertex).length;
  const label = state.fs.op.type === 'image' ? state.fs.op.ref : base;
  if (ownBase || state.fs.op.type === 'image' || state.fs.op.type === 'scratch') {
    state.fs = { ...state.fs, name: `[${displayName}1/${state.totalSteps}] FROM ${label}` };
  }
  state.ignoreCache = ctx.options.noCacheStages.some(
    (name) => name.toLowerCase() === stage.name || name === String(stage.index),
  );
  return { state, commands, triggerCount: replaced ? 0 : triggerCommands.length };
}

/** A stage's state on an image: its config, history, author and shell. */
function imageState(stage: Stage, displayName: string, from: Vertex, image: ResolvedImage): StageState {
  const state = newStageState(stage, displayName, from, structuredClone(image.config.config ?? {}));
  state.history = (image.config.history ?? []).map((entry) => ({ entry }));
  if (image.config.author !== undefined) state.author = image.config.author as string;
  state.shell = (image.config.config?.Shell as string[] | undefined) ?? defaultShell;
  return state;
}

/**
 * What `--from=<name>` of a COPY or a RUN mount reads: an earlier stage's result (converted
 * first if need be; a stage a named directory context replaces is read as that directory), else
 * the named context of that name, else the image of that name.
 */
export async function fromSource(
  ctx: ConvertContext,
  state: StageState,
  name: string,
  at: string,
): Promise<Vertex> {
  const stage = stageByName(ctx, name, state.stage, at);
  if (stage) {
    const replaced = stage.name === undefined ? undefined : loadNamedContext(ctx, stage.name, at);
    return replaced ? (await replaced).files : (await ctx.convertStage(stage)).fs;
  }
  const named = loadNamedContext(ctx, name, at);
  if (named) return (await named).files;
  const image = await ctx.options.resolveImage(name, at);
  return vertex(
    { type: 'image', ref: image.ref, manifest: image.manifest },
    [],
    `[internal] ${image.ref}`,
    at,
  );
}

/**
 * The stage `name` refers to from `current`. A number is a stage index only for `--from`
 * (`FROM 0` names an image, as in BuildKit). With a repeated name (DuplicateStageName, a
 * warning) the last such stage before `current` wins: BuildKit's dispatchStates keeps the
 * latest one registered under a name.
 */
function stageByName(
  ctx: ConvertContext,
  name: string,
  current: Stage,
  at: string,
  byIndex = true,
): Stage | undefined {
  const lower = name.toLowerCase();
  const named = ctx.stages.filter((s) => s.name === lower);
  const found =
    byIndex && /^\d+$/.test(name)
      ? ctx.stages[Number(name)]
      : (named.filter((s) => s.index < current.index).pop() ?? named[0]);
  if (!found) return undefined;
  if (found.index >= current.index) {
    if (found.index === current.index || ctx.inProgress.includes(found.index)) {
      // BuildKit (dockerfile2llb validateCircularDependency) names the stage whose
      // dependencies close the loop: the one being converted, not the one it asks for.
      throw new BuildError(`circular dependency detected on stage: ${current.name ?? name}`, at);
    }
    throw new BuildError(`stage ${name} needs to be defined before current stage`, at);
  }
  return found;
}

/** The env FROM lines and global ARG defaults expand with: the platform args, then the ARGs. */
function argEnv(
  args: Map<string, string | undefined>,
  platformArgs: Map<string, string>,
): Map<string, string> {
  const env = new Map(platformArgs);
  for (const [key, value] of args) if (value !== undefined) env.set(key, value);
  return env;
}

/** The instructions that make a step (and so count in `[n/total]`). */
function makesVertex(command: Command): boolean {
  return (
    command.kind === 'run' || command.kind === 'copy' || command.kind === 'add' || command.kind === 'workdir'
  );
}

function parseTriggers(triggers: string[], options: ConvertOptions, at: string): Command[] {
  if (triggers.length === 0) return [];
  try {
    const ast = parseDockerfile(`FROM scratch\n${triggers.join('\n')}\n`, {
      file: `${options.file} (ONBUILD)`,
    });
    return toInstructions(ast).stages[0]?.commands ?? [];
  } catch (error) {
    throw new BuildError(`invalid ONBUILD trigger in base image: ${(error as Error).message}`, at, {
      cause: error,
    });
  }
}
