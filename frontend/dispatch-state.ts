// The explicit state of a conversion, as BuildKit's dockerfile2llb keeps it: one ConvertContext
// for the whole Dockerfile and one StageState per stage (BuildKit's dispatchState), which the
// dispatchX functions of dispatch-*.ts change. Beside them, the bookkeeping every step shares:
// its display name and vertex, its history entry, and word expansion against the stage's ARG/ENV.
import { posix } from 'node:path';
import { type Command, expandWord, type Stage } from '../parser/index.ts';
import { type Op, type Vertex, vertex } from '../solver/index.ts';
import type { Checks } from './checks/index.ts';
import type { ContainerConfig, ConvertOptions, History, PendingHistory } from './convert-types.ts';
import { BuildError } from './errors.ts';
import type { NamedSource } from './named-contexts.ts';

/** What every stage's conversion shares. Set up once by `convert`; only `inProgress` changes. */
export interface ConvertContext {
  options: ConvertOptions;
  stages: Stage[];
  /** The ARGs before the first FROM as evaluated; `undefined` = declared without a value. */
  metaArgs: Map<string, string | undefined>;
  /** TARGETPLATFORM, BUILDOS, … for this build. */
  platformArgs: Map<string, string>;
  /** The build context: COPY/ADD's default source and a bind mount's default `from`. */
  context: Vertex;
  checks: Checks | undefined;
  /** The named contexts used so far, by key (frontend/named-contexts.ts), each made once. */
  namedSources: Map<string, Promise<NamedSource>>;
  /** Indexes of the stages being converted, innermost last (a stage needed again is a cycle). */
  inProgress: number[];
  /**
   * Another stage's converted state, converting it first if need be (FROM <stage>, COPY --from,
   * RUN --mount from=). Each stage is converted once, however often it is asked for.
   */
  convertStage(stage: Stage): Promise<StageState>;
}

/** The state of one stage while its instructions are dispatched (BuildKit's dispatchState). */
export interface StageState {
  stage: Stage;
  /** `stage-name ` (with the space) in a multi-stage build's step names, else empty. */
  displayName: string;
  /** The stage's filesystem so far: the last vertex made. */
  fs: Vertex;
  config: ContainerConfig;
  author?: string;
  history: PendingHistory[];
  /** ARGs declared in this stage; `undefined` = declared without a value. */
  args: Map<string, string | undefined>;
  shell: string[];
  /** Whether this stage set CMD itself (an ENTRYPOINT then keeps it). */
  cmdSet: boolean;
  /** `--no-cache-filter` names this stage: its steps always run. */
  ignoreCache: boolean;
  step: number;
  totalSteps: number;
}

export const defaultShell = ['/bin/sh', '-c'];
const historyComment = 'buildkit.dockerfile.v0';

export function newStageState(
  stage: Stage,
  displayName: string,
  fs: Vertex,
  config: ContainerConfig,
): StageState {
  return {
    stage,
    displayName,
    fs,
    config,
    history: [],
    args: new Map(),
    shell: defaultShell,
    cmdSet: false,
    ignoreCache: false,
    step: 1,
    totalSteps: 1,
  };
}

/** `Dockerfile:12`: where an instruction is, for errors and vertex locations. */
export function location(ctx: ConvertContext, range: { start: { line: number } }): string {
  return `${ctx.options.file}:${range.start.line}`;
}

/** The env for expanding words in a stage: its ARGs, then its ENV on top (ENV wins, as in Docker). */
export function stageExpandEnv(state: StageState): Map<string, string> {
  const env = new Map<string, string>();
  for (const [key, value] of state.args) if (value !== undefined) env.set(key, value);
  for (const entry of state.config.Env ?? []) {
    const eq = entry.indexOf('=');
    env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
  }
  return env;
}

/** One word expanded with `env`; a failure is a BuildError at `at`. */
export function expand(
  text: string,
  env: ReadonlyMap<string, string>,
  escapeChar: ConvertOptions['escape'],
  at: string,
  skipProcessQuotes = false,
): string {
  try {
    return expandWord(text, env, { escapeChar, skipProcessQuotes });
  } catch (error) {
    throw new BuildError((error as Error).message, at, { cause: error });
  }
}

/** A word of an instruction expanded with the stage's ARG and ENV as they are now. */
export function expandInStage(ctx: ConvertContext, state: StageState, text: string, at: string): string {
  return expand(text, stageExpandEnv(state), ctx.options.escape, at);
}

/** The next step of the stage: its vertex, named `[stage n/total] <instruction>`, becomes the stage's fs. */
export function addStep(
  ctx: ConvertContext,
  state: StageState,
  op: Op,
  inputs: Vertex[],
  command: Command,
): Vertex {
  state.step++;
  const name = `[${state.displayName}${state.step}/${state.totalSteps}] ${command.source}`;
  const v = vertex(op, inputs, name, location(ctx, command.range));
  if (state.ignoreCache) v.ignoreCache = true;
  state.fs = v;
  return v;
}

/** A history entry for an instruction; without `step` it made no layer (`empty_layer`). */
export function recordHistory(
  ctx: ConvertContext,
  state: StageState,
  createdBy: string,
  step?: Vertex,
): void {
  const entry: History = { created: ctx.options.created, created_by: createdBy, comment: historyComment };
  if (!step) entry.empty_layer = true;
  state.history.push(step ? { entry, step: step.digest } : { entry });
}

/** `path` taken from the working directory, cleaned like Go's path.Join (no trailing slash). */
export function joinWorkdir(workdir: string, path: string): string {
  return withoutTrailingSlash(posix.join(workdir || '/', path));
}

/** `/a/b/` → `/a/b`; `/` stays. */
function withoutTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}
