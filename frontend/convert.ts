// The frontend's driver: typed instructions in, a build graph and the image config out, as
// BuildKit's dockerfile2llb Dockerfile2LLB does. It sets up the conversion state, converts the
// stages the target needs (each once, on demand) and hands every instruction to its family's
// dispatch function: dispatch-from.ts (FROM and stages), dispatch-run.ts (RUN and its mounts),
// dispatch-copy.ts (COPY/ADD), dispatch-config.ts (the config instructions).
import type { Command, Instructions, Stage } from '../parser/index.ts';
import { type Vertex, vertex } from '../solver/index.ts';
import type { BuildDefinition, ContainerConfig, ConvertOptions } from './convert-types.ts';
import {
  dispatchArg,
  dispatchCommandForm,
  dispatchEnvOrLabel,
  dispatchExpose,
  dispatchHealthcheck,
  dispatchOnbuild,
  dispatchValue,
  dispatchVolume,
  dispatchWorkdir,
} from './dispatch-config.ts';
import { dispatchCopy } from './dispatch-copy.ts';
import { dispatchFrom, evaluateMetaArgs, findTarget, platformArgValues } from './dispatch-from.ts';
import { dispatchRun } from './dispatch-run.ts';
import { type ConvertContext, type StageState, stageExpandEnv } from './dispatch-state.ts';
import { BuildError } from './errors.ts';

/**
 * Turns typed instructions into a build graph and the image config. Only the stages the target
 * needs are converted (an unused stage's base image is never even looked up). Pure but for the
 * injected `resolveImage`.
 */
export async function convert(instructions: Instructions, options: ConvertOptions): Promise<BuildDefinition> {
  const { stages } = instructions;
  if (stages.length === 0) throw new BuildError('dockerfile contains no stages to build', options.file);
  const platformArgs = platformArgValues(options.platform);
  const checks = options.checks;
  checks?.beforeConvert(instructions, {
    buildArgs: options.buildArgs,
    platformArgs,
    excludes: options.context.excludes,
  });
  const metaArgs = evaluateMetaArgs(instructions.metaArgs, options, platformArgs);
  const context: Vertex = vertex(
    { type: 'context', name: 'context', dir: options.context.dir, excludes: options.context.excludes },
    [],
    '[internal] load build context',
  );
  const target = findTarget(stages, options);
  const converted = new Map<number, Promise<StageState>>();
  const ctx: ConvertContext = {
    options,
    stages,
    metaArgs,
    platformArgs,
    context,
    checks,
    namedSources: new Map(),
    inProgress: [],
    convertStage: (stage) => {
      let pending = converted.get(stage.index);
      if (!pending) {
        pending = convertStage(ctx, stage);
        converted.set(stage.index, pending);
      }
      return pending;
    },
  };

  const targetState = await ctx.convertStage(target);
  if (options.allStages) for (const stage of stages) await ctx.convertStage(stage);
  // `error=true`: BuildKit fails once every stage is dispatched, before anything is built.
  const violation = checks?.violation();
  if (violation !== undefined) throw new BuildError(violation);
  const config: ContainerConfig = { ...targetState.config };
  if (Object.keys(options.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...options.labels };
  return {
    root: targetState.fs,
    config: {
      created: options.created,
      architecture: options.platform.architecture,
      os: options.platform.os,
      ...(options.platform.variant ? { variant: options.platform.variant } : {}),
      ...(targetState.author !== undefined ? { author: targetState.author } : {}),
      config,
      rootfs: { type: 'layers', diff_ids: [] },
      history: [],
    },
    history: targetState.history,
    stage: target.name ?? String(target.index),
  };
}

/** One stage: its FROM, then every instruction in order, each through the build checks first. */
async function convertStage(ctx: ConvertContext, stage: Stage): Promise<StageState> {
  ctx.inProgress.push(stage.index);
  const { state, commands, triggerCount } = await dispatchFrom(ctx, stage);
  for (const [i, command] of commands.entries()) {
    // A base image's trigger has no line of its own: BuildKit reports it at the FROM line.
    const range = i < triggerCount ? ctx.checks?.fromRange(stage.index) : undefined;
    ctx.checks?.command(stage, command, {
      env: stageExpandEnv(state),
      shellSet: ((state.config.Shell as string[] | undefined)?.length ?? 0) > 0,
      ...(range ? { range } : {}),
    });
    await dispatch(ctx, state, command);
  }
  ctx.inProgress.splice(ctx.inProgress.indexOf(stage.index), 1);
  return state;
}

/** Hands an instruction to its family's dispatch function (BuildKit's dispatch). */
async function dispatch(ctx: ConvertContext, state: StageState, command: Command): Promise<void> {
  switch (command.kind) {
    case 'arg':
      return dispatchArg(ctx, state, command);
    case 'env':
    case 'label':
      return dispatchEnvOrLabel(ctx, state, command);
    case 'user':
    case 'stopsignal':
    case 'maintainer':
      return dispatchValue(ctx, state, command);
    case 'workdir':
      return dispatchWorkdir(ctx, state, command);
    case 'expose':
      return dispatchExpose(ctx, state, command);
    case 'volume':
      return dispatchVolume(ctx, state, command);
    case 'shell':
    case 'cmd':
    case 'entrypoint':
      return dispatchCommandForm(ctx, state, command);
    case 'healthcheck':
      return dispatchHealthcheck(ctx, state, command);
    case 'onbuild':
      return dispatchOnbuild(state, command);
    case 'run':
      return dispatchRun(ctx, state, command);
    case 'copy':
    case 'add':
      return dispatchCopy(ctx, state, command);
  }
}
