import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { ContainerConfig, History, ImageConfig } from '../image/index.ts';
import {
  type ArgCommand,
  type Command,
  chompHeredoc,
  expandWord,
  expandWords,
  type Heredoc,
  type Instructions,
  parseDockerfile,
  type RunMount,
  type ShellOrExec,
  type Stage,
  suggest,
  toInstructions,
} from '../parser/index.ts';
import { type Digest, type ExecMountOp, type Op, type Vertex, vertex } from '../solver/index.ts';
import type { Checks } from './checks/index.ts';
import { compareCodePoints } from './context-walk.ts';
import { BuildError } from './errors.ts';
import { parseExposedPorts } from './ports.ts';

/** A base image as the store (or a registry) knows it. */
export interface ResolvedImage {
  /** The normalised reference, `docker.io/library/busybox:latest`. */
  ref: string;
  manifest: Digest;
  config: ImageConfig;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ConvertOptions {
  /** The Dockerfile's name in messages and locations (`Dockerfile`). */
  file: string;
  escape: '\\' | '`';
  target?: string;
  buildArgs: Record<string, string>;
  /** `--label`: added to the final image's labels. */
  labels: Record<string, string>;
  platform: Platform;
  context: { dir: string; excludes: string[] };
  /** `--no-cache-filter`: stages whose steps always run. */
  noCacheStages: string[];
  /** The image's creation time, ISO 8601; also each history entry's. */
  created: string;
  resolveImage(ref: string, location: string): Promise<ResolvedImage>;
  /** ADD of an http(s) URL: the body and the file name it gets. */
  fetchUrl?(url: string, location: string): Promise<{ data: Buffer; name: string }>;
  /** The build checks to run while converting (frontend/checks); their warnings stay in it. */
  checks?: Checks;
  /**
   * Convert every stage, not only those the target needs (BuildKit's lint subrequest with no
   * target, so that `--call=check` checks them all).
   */
  allStages?: boolean;
}

/**
 * A history entry of the image being built. `step` ties an entry to the vertex that may add a
 * layer: the exporter marks it `empty_layer` when that step ended up adding none (BuildKit drops
 * empty layers the same way). Entries without `step` are metadata (`empty_layer` as given).
 */
export interface PendingHistory {
  entry: History;
  step?: Digest;
}

/** What the frontend hands the solver and the exporter: the graph and the config beside it. */
export interface BuildDefinition {
  root: Vertex;
  /** The final image config; `rootfs.diff_ids` is filled in by the exporter. */
  config: ImageConfig;
  history: PendingHistory[];
  /** The stage built (its name, or its index as a string). */
  stage: string;
}

const defaultShell = ['/bin/sh', '-c'];
const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const proxyArgs = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'];
const historyComment = 'buildkit.dockerfile.v0';

/** The state of one stage while its instructions are dispatched (BuildKit's dispatchState). */
interface StageState {
  stage: Stage;
  displayName: string;
  fs: Vertex;
  config: ContainerConfig;
  author?: string;
  history: PendingHistory[];
  /** ARGs declared in this stage; `undefined` = declared without a value. */
  args: Map<string, string | undefined>;
  shell: string[];
  cmdSet: boolean;
  step: number;
  totalSteps: number;
}

/**
 * Turns typed instructions into a build graph and the image config, as BuildKit's dockerfile2llb
 * does. Only the stages the target needs are converted (an unused stage's base image is never
 * even looked up). Pure but for the injected `resolveImage`/`fetchUrl`.
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
  const multiStage = stages.length > 1;
  const context: Vertex = vertex(
    { type: 'context', name: 'context', dir: options.context.dir, excludes: options.context.excludes },
    [],
    '[internal] load build context',
  );

  const target = findTarget(stages, options);
  const converted = new Map<number, Promise<StageState>>();
  const inProgress: number[] = [];

  const location = (range: { start: { line: number } }) => `${options.file}:${range.start.line}`;

  /**
   * The stage `name` refers to from `current`. A number is a stage index only for `--from`
   * (`FROM 0` names an image, as in BuildKit). With a repeated name (DuplicateStageName, a
   * warning) the last such stage before `current` wins: BuildKit's dispatchStates keeps the
   * latest one registered under a name.
   */
  const stageByName = (name: string, current: Stage, at: string, byIndex = true): Stage | undefined => {
    const lower = name.toLowerCase();
    const named = stages.filter((s) => s.name === lower);
    const found =
      byIndex && /^\d+$/.test(name)
        ? stages[Number(name)]
        : (named.filter((s) => s.index < current.index).pop() ?? named[0]);
    if (!found) return undefined;
    if (found.index >= current.index) {
      if (found.index === current.index || inProgress.includes(found.index)) {
        // BuildKit (dockerfile2llb validateCircularDependency) names the stage whose
        // dependencies close the loop: the one being converted, not the one it asks for.
        throw new BuildError(`circular dependency detected on stage: ${current.name ?? name}`, at);
      }
      throw new BuildError(`stage ${name} needs to be defined before current stage`, at);
    }
    return found;
  };

  const convertStage = (stage: Stage): Promise<StageState> => {
    let pending = converted.get(stage.index);
    if (!pending) {
      pending = dispatchStage(stage);
      converted.set(stage.index, pending);
    }
    return pending;
  };

  const dispatchStage = async (stage: Stage): Promise<StageState> => {
    inProgress.push(stage.index);
    const at = location(stage.range);
    const displayName = multiStage ? `${stage.name ?? `stage-${stage.index}`} ` : '';
    const base = expand(stage.base, argEnv(metaArgs, platformArgs), options, at);
    let state: StageState;
    const baseStage = base.toLowerCase() === 'scratch' ? undefined : stageByName(base, stage, at, false);
    let triggers: string[] = [];
    if (base.toLowerCase() === 'scratch') {
      state = newState(stage, displayName, vertex({ type: 'scratch' }, [], 'scratch'), {
        Env: [defaultPath],
        WorkingDir: '/',
      });
    } else if (baseStage) {
      const parent = await convertStage(baseStage);
      state = newState(stage, displayName, parent.fs, structuredClone(parent.config));
      state.history = [...parent.history];
      if (parent.author !== undefined) state.author = parent.author;
      state.shell = parent.shell;
      state.args = new Map(parent.args);
      triggers = (parent.config.OnBuild as string[] | undefined) ?? [];
    } else {
      const image = await options.resolveImage(base, at);
      const fromName = `[${displayName}1/${0}] FROM ${image.ref}`;
      state = newState(
        stage,
        displayName,
        vertex({ type: 'image', ref: image.ref, manifest: image.manifest }, [], fromName, at),
        structuredClone(image.config.config ?? {}),
      );
      state.history = (image.config.history ?? []).map((entry) => ({ entry }));
      if (image.config.author !== undefined) state.author = image.config.author as string;
      state.shell = (image.config.config?.Shell as string[] | undefined) ?? defaultShell;
      triggers = (image.config.config?.OnBuild as string[] | undefined) ?? [];
    }
    checks?.stage(stage, baseStage);
    // ONBUILD triggers of the base run right after FROM and are not passed on further.
    const triggerCommands = parseTriggers(triggers, options, at);
    delete state.config.OnBuild;
    const commands = [...triggerCommands, ...stage.commands];
    state.totalSteps = 1 + commands.filter(makesVertex).length;
    state.fs = renamed(state.fs, `[${displayName}1/${state.totalSteps}] FROM ${fromLabel(state.fs, base)}`);
    const ignoreCache = options.noCacheStages.some(
      (name) => name.toLowerCase() === stage.name || name === String(stage.index),
    );
    for (const [i, command] of commands.entries()) {
      // A base image's trigger has no line of its own: BuildKit reports it at the FROM line.
      const range = i < triggerCommands.length ? checks?.fromRange(stage.index) : undefined;
      checks?.command(stage, command, {
        env: stageExpandEnv(state),
        shellSet: ((state.config.Shell as string[] | undefined)?.length ?? 0) > 0,
        ...(range ? { range } : {}),
      });
      await dispatch(state, command, ignoreCache);
    }
    inProgress.splice(inProgress.indexOf(stage.index), 1);
    return state;
  };

  const newState = (stage: Stage, displayName: string, fs: Vertex, config: ContainerConfig): StageState => ({
    stage,
    displayName,
    fs,
    config,
    history: [],
    args: new Map(),
    shell: defaultShell,
    cmdSet: false,
    step: 1,
    totalSteps: 1,
  });

  /** The env for expanding words in a stage: its ARGs, then its ENV on top (ENV wins, as in Docker). */
  const stageExpandEnv = (state: StageState): Map<string, string> => {
    const env = new Map<string, string>();
    for (const [key, value] of state.args) if (value !== undefined) env.set(key, value);
    for (const entry of state.config.Env ?? []) {
      const eq = entry.indexOf('=');
      env.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
    }
    return env;
  };

  const addStep = (
    state: StageState,
    op: Op,
    inputs: Vertex[],
    command: Command,
    ignoreCache: boolean,
  ): Vertex => {
    state.step++;
    const name = `[${state.displayName}${state.step}/${state.totalSteps}] ${command.source}`;
    const v = vertex(op, inputs, name, location(command.range));
    if (ignoreCache) v.ignoreCache = true;
    state.fs = v;
    return v;
  };

  const record = (state: StageState, createdBy: string, step?: Vertex) => {
    const entry: History = { created: options.created, created_by: createdBy, comment: historyComment };
    if (!step) entry.empty_layer = true;
    state.history.push(step ? { entry, step: step.digest } : { entry });
  };

  const dispatch = async (state: StageState, command: Command, ignoreCache: boolean): Promise<void> => {
    const at = location(command.range);
    const env = () => stageExpandEnv(state);
    const word = (text: string) => expand(text, env(), options, at);
    switch (command.kind) {
      case 'arg': {
        for (const { key, value } of command.args) {
          let resolved: string | undefined;
          if (key in options.buildArgs) resolved = options.buildArgs[key];
          else if (value !== undefined) resolved = word(value);
          else if (metaArgs.has(key)) resolved = metaArgs.get(key);
          else if (platformArgs.has(key)) resolved = platformArgs.get(key);
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
        record(state, `ARG ${shown.join(' ')}`);
        return;
      }
      case 'env': {
        // Every pair expands against the env from before this instruction (BuildKit expands the
        // whole command first): `ENV A=1 B=$A` leaves B empty unless A was already set.
        const pairs = command.pairs.map(([k, v]) => [word(k), word(v)] as const);
        for (const [key, value] of pairs) setEnv(state.config, key, value);
        record(state, `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        return;
      }
      case 'label': {
        const pairs = command.pairs.map(([k, v]) => [word(k), word(v)] as const);
        state.config.Labels ??= {};
        for (const [key, value] of pairs) state.config.Labels[key] = value;
        record(state, `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
        return;
      }
      case 'user':
        state.config.User = word(command.value);
        record(state, `USER ${state.config.User}`);
        return;
      case 'stopsignal':
        state.config.StopSignal = word(command.value);
        record(state, `STOPSIGNAL ${state.config.StopSignal}`);
        return;
      case 'maintainer':
        state.author = command.value;
        record(state, `MAINTAINER ${command.value}`);
        return;
      case 'workdir': {
        // BuildKit's system.NormalizeWorkdir: a relative path is joined (and cleaned) onto the
        // current one; an absolute one is kept as written, trailing slash included.
        const requested = word(command.value);
        // Go's path.Join cleans, so a relative one loses a trailing slash.
        state.config.WorkingDir = requested.startsWith('/')
          ? requested
          : withoutTrailingSlash(posix.join(state.config.WorkingDir || '/', requested));
        const path = posix.resolve(state.config.WorkingDir);
        const owner = state.config.User || undefined;
        const step = addStep(
          state,
          { type: 'mkdir', path, ...(owner ? { owner } : {}) },
          [state.fs],
          command,
          ignoreCache,
        );
        record(state, `WORKDIR ${state.config.WorkingDir}`, step);
        return;
      }
      case 'expose': {
        state.config.ExposedPorts ??= {};
        const ports: string[] = [];
        for (const value of command.values) {
          for (const spec of expandWords(value, env(), { escapeChar: options.escape })) {
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
        record(state, `EXPOSE map[${portSet.map((p) => `${p}:{}`).join(' ')}]`);
        return;
      }
      case 'volume': {
        state.config.Volumes ??= {};
        const paths = command.values.map(word);
        for (const path of paths) {
          if (path === '') throw new BuildError('VOLUME specified can not be an empty string', at);
          state.config.Volumes[path] = {};
        }
        record(state, `VOLUME [${paths.join(' ')}]`);
        return;
      }
      case 'shell':
        state.shell = commandArgs(command.cmd, state.shell);
        state.config.Shell = state.shell;
        // BuildKit: fmt.Sprintf("SHELL %v", shell), a Go slice printed bare: `[/bin/sh -c]`.
        record(state, `SHELL [${state.shell.join(' ')}]`);
        return;
      case 'cmd':
        state.config.Cmd = commandArgs(command.cmd, state.shell);
        state.cmdSet = true;
        record(state, `CMD ${goQuotedList(state.config.Cmd)}`);
        return;
      case 'entrypoint':
        state.config.Entrypoint = commandArgs(command.cmd, state.shell);
        // An ENTRYPOINT clears a CMD inherited from the base (BuildKit dispatchEntrypoint).
        // BuildKit's config leaves the cleared Cmd out (omitempty), it does not write null.
        if (!state.cmdSet) delete state.config.Cmd;
        record(state, `ENTRYPOINT ${goQuotedList(state.config.Entrypoint)}`);
        return;
      case 'healthcheck': {
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
        record(state, `HEALTHCHECK ${JSON.stringify(state.config.Healthcheck)}`);
        return;
      }
      case 'onbuild': {
        const triggers = (state.config.OnBuild as string[] | undefined) ?? [];
        state.config.OnBuild = [...triggers, command.trigger];
        // No history entry: BuildKit's dispatchOnbuild commits none (the classic builder did).
        return;
      }
      case 'run':
        await dispatchRun(state, command, ignoreCache, at, word);
        return;
      case 'copy':
      case 'add':
        await dispatchCopy(state, command, ignoreCache, at, word);
        return;
    }
  };

  const dispatchRun = async (
    state: StageState,
    command: Extract<Command, { kind: 'run' }>,
    ignoreCache: boolean,
    at: string,
    word: (text: string) => string,
  ) => {
    // Input 0 is the root filesystem; bind mount sources follow, each vertex once.
    const inputs: Vertex[] = [state.fs];
    const inputIndex = (v: Vertex): number => {
      const known = inputs.findIndex((input, i) => i > 0 && input.digest === v.digest);
      if (known > 0) return known;
      inputs.push(v);
      return inputs.length - 1;
    };
    const mounts: ExecMountOp[] = [];
    for (const mount of command.mounts) {
      mounts.push(await convertMount(state, mount, at, word, inputIndex));
    }
    let args: string[];
    const script =
      command.cmd.form === 'shell' ? shebangScript(command.cmd.line, command.heredocs) : undefined;
    if (script) {
      // A lone heredoc starting with `#!` is written to a file and executed, so its interpreter
      // runs it (BuildKit dockerfile2llb dispatchRun: a scratch dir with the file, mode 0755,
      // mounted read-only at /dev/pipes/, run as `<shell> /dev/pipes/<name>`).
      const file = vertex(
        {
          type: 'mkfile',
          path: `/${script.name}`,
          data: Buffer.from(script.content).toString('base64'),
          mode: 0o755,
        },
        [vertex({ type: 'scratch' }, [], 'scratch')],
        '[internal] preparing inline document',
        at,
      );
      mounts.push({
        type: 'bind',
        target: '/dev/pipes',
        input: inputIndex(file),
        source: '/',
        readonly: true,
      });
      args = [...state.shell, `/dev/pipes/${script.name}`];
    } else {
      args =
        command.cmd.form === 'exec'
          ? command.cmd.argv
          : [...state.shell, withHeredocs(command.cmd.line, command.heredocs)];
    }
    const argEnv = [...state.args].filter((entry): entry is [string, string] => entry[1] !== undefined);
    const imageEnv = state.config.Env ?? [];
    const imageKeys = new Set(imageEnv.map((entry) => entry.split('=')[0]));
    const env = [...imageEnv, ...argEnv.filter(([key]) => !imageKeys.has(key)).map(([k, v]) => `${k}=${v}`)];
    const proxyEnv = proxyEnvFrom(options.buildArgs);
    const op: Op = {
      type: 'exec',
      args,
      env,
      cwd: state.config.WorkingDir || '/',
      user: state.config.User ?? '',
      network: command.network ?? 'default',
      // Allowed or refused with the other entitlements before the build runs (solver/entitlements.ts).
      ...(command.security === 'insecure' ? { security: 'insecure' as const } : {}),
      ...(proxyEnv.length > 0 ? { proxyEnv } : {}),
      ...(mounts.length > 0 ? { mounts } : {}),
    };
    const step = addStep(state, op, inputs, command, ignoreCache);
    // BuildKit's runCommandString: every ARG of the stage, valued or not (`KEY=`), with the value
    // the step's env has for it (an ENV of the same name over the ARG).
    const runEnv = stageExpandEnv(state);
    const shownArgs = [...state.args].map(([k, v]) => `${k}=${runEnv.get(k) ?? v ?? ''}`);
    const prefix = shownArgs.length > 0 ? `|${shownArgs.length} ${shownArgs.join(' ')} ` : '';
    record(state, `RUN ${prefix}${args.join(' ')} # buildkit`, step);
  };

  /**
   * One `--mount` as an op, its values expanded with the stage's ARG/ENV (BuildKit expands every
   * field but `from`). Relative targets are taken from the working directory.
   */
  const convertMount = async (
    state: StageState,
    mount: RunMount,
    at: string,
    word: (text: string) => string,
    inputIndex: (v: Vertex) => number,
  ): Promise<ExecMountOp> => {
    if (mount.from?.includes('$')) {
      throw new BuildError("'from' doesn't support variable expansion, define alias stage instead", at);
    }
    const workdir = state.config.WorkingDir || '/';
    const target = mount.target === undefined ? undefined : posix.resolve(workdir, word(mount.target));
    const owner = { uid: mount.uid ?? 0, gid: mount.gid ?? 0 };
    // `from` names a stage or an image; empty or absent is the build context (BuildKit's
    // convert_runmount.go only looks a `from` up when it is not "").
    const fromVertex = async (from: string): Promise<Vertex> => {
      const stage = stageByName(from, state.stage, at);
      if (stage) return (await convertStage(stage)).fs;
      const image = await options.resolveImage(from, at);
      return vertex(
        { type: 'image', ref: image.ref, manifest: image.manifest },
        [],
        `[internal] ${image.ref}`,
        at,
      );
    };
    const source = posix.resolve('/', word(mount.source ?? '/'));
    switch (mount.type) {
      case 'bind':
        return {
          type: 'bind',
          target: target as string,
          input: inputIndex(mount.from ? await fromVertex(mount.from) : context),
          source,
          readonly: mount.readonly,
        };
      case 'cache':
        return {
          type: 'cache',
          target: target as string,
          // BuildKit: the id defaults to the target, so two targets are two caches.
          id: mount.id === undefined ? (target as string) : word(mount.id),
          sharing: mount.sharing ?? 'shared',
          readonly: mount.readonly,
          ...owner,
          mode: mount.mode ?? 0o755,
          // `from=`: the cache starts as a copy of that stage's (or image's) `source` directory
          // (BuildKit mounts a cache on top of its base ref), a cache of its own per base.
          ...(mount.from ? { seed: { input: inputIndex(await fromVertex(mount.from)), source } } : {}),
        };
      case 'tmpfs': {
        const size = mount.size === undefined ? undefined : parseSize(word(mount.size), at);
        return { type: 'tmpfs', target: target as string, ...(size === undefined ? {} : { size }) };
      }
      case 'secret': {
        const env = mount.env === undefined ? undefined : word(mount.env);
        const id =
          mount.id === undefined ? (target === undefined ? '' : posix.basename(target)) : word(mount.id);
        if (id === '') throw new BuildError('secret mount requires an id or a target', at);
        // With only env= there is no file (BuildKit testSecretAsEnviron); otherwise the file
        // goes to target, by default /run/secrets/<id>.
        const file = target ?? (env === undefined ? `/run/secrets/${id}` : undefined);
        return {
          type: 'secret',
          id,
          ...(file === undefined ? {} : { target: file }),
          ...(env === undefined ? {} : { env }),
          required: mount.required ?? false,
          ...owner,
          mode: mount.mode ?? 0o400,
        };
      }
      case 'ssh':
        throw new BuildError('RUN --mount=type=ssh is not supported: tbuild has no SSH agent forwarding', at);
    }
  };

  const dispatchCopy = async (
    state: StageState,
    command: Extract<Command, { kind: 'copy' | 'add' }>,
    ignoreCache: boolean,
    at: string,
    word: (text: string) => string,
  ) => {
    const keyword = command.kind.toUpperCase();
    const from = command.kind === 'copy' ? command.from : undefined;
    const heredocNames = new Set(command.heredocs.map((h) => h.name));
    // Every heredoc of a COPY/ADD is a source; the parser may or may not leave its `<<EOF` word
    // among `sources`, so the heredocs list is what counts.
    const heredocSources = command.heredocs.map((h) => `<<${h.name}`);
    const sources = command.sources.filter((s) => !isHeredocWord(s, heredocNames)).map(word);
    let dest = word(command.dest);
    const workdir = state.config.WorkingDir || '/';
    if (dest === '') dest = `${workdir.replace(/\/$/, '')}/`;
    else if (!dest.startsWith('/')) {
      const trailing = dest.endsWith('/') || dest === '.' || dest.endsWith('/.');
      dest = withoutTrailingSlash(posix.join(workdir, dest)) + (trailing ? '/' : '');
    }
    const chown = command.chown === undefined ? undefined : word(command.chown);
    const chmod = command.chmod === undefined ? undefined : word(command.chmod);
    if (
      chmod !== undefined &&
      !/^[0-7]+$/.test(chmod) &&
      !/^([ugoa]*[-+=][rwxXst]*)(,[ugoa]*[-+=][rwxXst]*)*$/.test(chmod)
    ) {
      throw new BuildError(
        `invalid chmod parameter: '${chmod}'. it should be octal string and between 0 and 07777`,
        at,
      );
    }
    if (chmod !== undefined && /^[0-7]+$/.test(chmod) && Number.parseInt(chmod, 8) > 0o7777) {
      throw new BuildError(
        `invalid chmod parameter: '${chmod}'. it should be octal string and between 0 and 07777`,
        at,
      );
    }
    const urls = sources.filter(isUrl);
    if (urls.length > 0 && command.kind === 'copy')
      throw new BuildError("source can't be a URL for COPY", at);
    if (command.kind === 'add' && command.checksum !== undefined && urls.length === 0) {
      throw new BuildError('checksum requires HTTP(S) or Git sources', at);
    }

    let fsBefore = state.fs;
    // Heredoc and URL sources become files of known content, chained before the copy op of the
    // local sources; together they are one step.
    const addFile = (name: string, data: Buffer, defaultMode: number) => {
      const op: Op = {
        type: 'mkfile',
        path: dest.endsWith('/') ? posix.join(dest, name) : dest,
        data: data.toString('base64'),
        mode: chmod && /^[0-7]+$/.test(chmod) ? Number.parseInt(chmod, 8) : defaultMode,
        ...(chown ? { chown } : {}),
      };
      fsBefore = vertex(
        op,
        [fsBefore],
        `[${state.displayName}${state.step + 1}/${state.totalSteps}] ${command.source}`,
        at,
      );
    };
    for (const word of heredocSources) {
      const heredoc = command.heredocs.find((h) => isHeredocWord(word, new Set([h.name]))) as Heredoc;
      let content = heredoc.chomp ? chompHeredoc(heredoc.content) : heredoc.content;
      if (heredoc.expand) content = expandHeredoc(content, stageExpandEnv(state), options, at);
      addFile(heredoc.name, Buffer.from(content), 0o644);
    }
    for (const url of urls) {
      if (!options.fetchUrl) throw new BuildError(`cannot download ${url}: no network access configured`, at);
      const { data, name } = await options.fetchUrl(url, at);
      if (command.kind === 'add' && command.checksum !== undefined) {
        if (!/^sha256:[0-9a-f]{64}$/.test(command.checksum)) {
          throw new BuildError(`invalid checksum digest format: ${command.checksum}`, at);
        }
        const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
        if (actual !== command.checksum) {
          throw new BuildError(`digest mismatch for ${url}: expected ${command.checksum}, got ${actual}`, at);
        }
      }
      // BuildKit gives downloaded files mode 0600 unless --chmod says otherwise.
      addFile(name, data, 0o600);
    }
    const local = sources.filter((s) => !isUrl(s));
    let source: Vertex = context;
    if (from) {
      if (from.includes('$')) {
        throw new BuildError(
          `${keyword} --from does not support variable expansion, define an alias stage instead`,
          at,
        );
      }
      const stage = stageByName(from, state.stage, at);
      if (stage) source = (await convertStage(stage)).fs;
      else {
        const image = await options.resolveImage(from, at);
        source = vertex(
          { type: 'image', ref: image.ref, manifest: image.manifest },
          [],
          `[internal] ${image.ref}`,
          at,
        );
      }
    }
    let step: Vertex;
    if (local.length > 0) {
      const op: Op = {
        type: 'copy',
        sources: local,
        dest,
        extractArchives: command.kind === 'add',
        excludes: command.exclude,
        ...(chown ? { chown } : {}),
        ...(chmod ? { chmod } : {}),
      };
      step = addStep(state, op, [fsBefore, source], command, ignoreCache);
    } else {
      state.step++;
      step = fsBefore;
      state.fs = step;
    }
    // BuildKit's commit message: the sources and destination as expanded, with ` <<NAME` per
    // heredoc between them.
    const shown = [...sources, ...command.heredocs.map((h) => `<<${h.name}`), word(command.dest)];
    record(state, `${keyword} ${shown.join(' ')} # buildkit`, step);
    // Steps made of several vertices (heredoc files then a copy) are one history entry; every
    // vertex of them must count as that entry's layer.
    if (step !== fsBefore || heredocSources.length + urls.length > 0) {
      const last = state.history[state.history.length - 1] as PendingHistory;
      last.step = step.digest;
    }
  };

  const targetState = await convertStage(target);
  if (options.allStages) for (const stage of stages) await convertStage(stage);
  // `error=true`: BuildKit fails once every stage is dispatched, before anything is built.
  const violation = checks?.violation();
  if (violation !== undefined) throw new BuildError(violation);
  const config: ContainerConfig = { ...targetState.config };
  if (Object.keys(options.labels).length > 0) config.Labels = { ...(config.Labels ?? {}), ...options.labels };
  const image: ImageConfig = {
    created: options.created,
    architecture: options.platform.architecture,
    os: options.platform.os,
    ...(options.platform.variant ? { variant: options.platform.variant } : {}),
    ...(targetState.author !== undefined ? { author: targetState.author } : {}),
    config,
    rootfs: { type: 'layers', diff_ids: [] },
    history: [],
  };
  return {
    root: targetState.fs,
    config: image,
    history: targetState.history,
    stage: target.name ?? String(target.index),
  };
}

function makesVertex(command: Command): boolean {
  return (
    command.kind === 'run' || command.kind === 'copy' || command.kind === 'add' || command.kind === 'workdir'
  );
}

function renamed(v: Vertex, name: string): Vertex {
  return v.op.type === 'image' || v.op.type === 'scratch' ? { ...v, name } : v;
}

function fromLabel(v: Vertex, base: string): string {
  return v.op.type === 'image' ? v.op.ref : base;
}

function findTarget(stages: Stage[], options: ConvertOptions): Stage {
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
function evaluateMetaArgs(
  metaArgs: ArgCommand[],
  options: ConvertOptions,
  platformArgs: Map<string, string>,
): Map<string, string | undefined> {
  const values = new Map<string, string | undefined>();
  for (const command of metaArgs) {
    const at = `${options.file}:${command.range.start.line}`;
    for (const { key, value } of command.args) {
      if (key in options.buildArgs) values.set(key, options.buildArgs[key]);
      else if (value !== undefined) values.set(key, expand(value, argEnv(values, platformArgs), options, at));
      else values.set(key, undefined);
    }
  }
  return values;
}

function argEnv(
  args: Map<string, string | undefined>,
  platformArgs: Map<string, string>,
): Map<string, string> {
  const env = new Map(platformArgs);
  for (const [key, value] of args) if (value !== undefined) env.set(key, value);
  return env;
}

function expand(text: string, env: ReadonlyMap<string, string>, options: ConvertOptions, at: string): string {
  try {
    return expandWord(text, env, { escapeChar: options.escape });
  } catch (error) {
    throw new BuildError((error as Error).message, at, { cause: error });
  }
}

/** Unquoted heredoc bodies expand variables like a double-quoted shell word would. */
function expandHeredoc(
  content: string,
  env: ReadonlyMap<string, string>,
  options: ConvertOptions,
  at: string,
) {
  try {
    return expandWord(content, env, { escapeChar: options.escape, skipProcessQuotes: true });
  } catch (error) {
    throw new BuildError((error as Error).message, at, { cause: error });
  }
}

function commandArgs(cmd: ShellOrExec, shell: string[]): string[] {
  return cmd.form === 'exec' ? cmd.argv : [...shell, cmd.line];
}

/** A RUN with heredocs runs the whole script, bodies included, through the shell. */
function withHeredocs(line: string, heredocs: Heredoc[]): string {
  if (heredocs.length === 0) return line;
  // `RUN <<EOF` alone: the body is the script (BuildKit's dispatchRun runs it with the shell).
  // Joining it after the bare redirect would feed the body to an empty command as stdin.
  const only = heredocs.length === 1 ? heredocs[0] : undefined;
  if (only !== undefined && /^<<-?(["']?)(.+)\1$/.exec(line.trim())?.[2] === only.name) {
    return only.chomp ? chompHeredoc(only.content) : only.content;
  }
  let script = line;
  for (const heredoc of heredocs) script += `\n${heredoc.content}${heredoc.name}`;
  return `${script}\n`;
}

/** The heredoc a RUN consists of alone, when its body starts with `#!`; chomped if `<<-`. */
function shebangScript(line: string, heredocs: Heredoc[]): { name: string; content: string } | undefined {
  const only = heredocs.length === 1 ? heredocs[0] : undefined;
  if (only === undefined || /^<<-?(["']?)(.+)\1$/.exec(line.trim())?.[2] !== only.name) return undefined;
  const content = only.chomp ? chompHeredoc(only.content) : only.content;
  return content.startsWith('#!') ? { name: only.name, content } : undefined;
}

/** A tmpfs `size=` in bytes: a number with an optional binary unit (go-units RAMInBytes). */
function parseSize(text: string, at: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) throw new BuildError(`invalid size: '${text}'`, at);
  const power = ' kmgtp'.indexOf((match[2] || ' ').toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

/** `/a/b/` → `/a/b`; `/` stays. */
function withoutTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

/**
 * A list as Go's `%q` prints a []string (BuildKit's CMD and ENTRYPOINT history): each item
 * double-quoted, separated by spaces, `["a" "b"]`. JSON string quoting is Go's for the printable
 * text a Dockerfile holds.
 */
function goQuotedList(items: readonly string[] | undefined): string {
  return `[${(items ?? []).map((item) => JSON.stringify(item)).join(' ')}]`;
}

function isHeredocWord(word: string, names: Set<string>): boolean {
  const match = /^\d*<<-?(.*)$/.exec(word);
  return match !== null && names.has((match[1] as string).replace(/["']/g, ''));
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Sets `key` in place when it is already there, else appends it (BuildKit's addEnv keeps the order). */
function setEnv(config: ContainerConfig, key: string, value: string): void {
  const env = [...(config.Env ?? [])];
  const at = env.findIndex((entry) => entry.split('=')[0] === key);
  if (at < 0) env.push(`${key}=${value}`);
  else env[at] = `${key}=${value}`;
  config.Env = env;
}

function proxyEnvFrom(buildArgs: Record<string, string>): string[] {
  const env: string[] = [];
  for (const [key, value] of Object.entries(buildArgs)) {
    if (proxyArgs.includes(key.toUpperCase())) env.push(`${key}=${value}`);
  }
  return env.sort();
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
