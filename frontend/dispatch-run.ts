// RUN and its mounts: the exec op with the stage's env, user and working directory, heredoc
// scripts, and each `--mount` as an op mount. BuildKit: dockerfile2llb convert.go (dispatchRun)
// and convert_runmount.go.
import { posix } from 'node:path';
import { type Command, chompHeredoc, type Heredoc, type RunMount } from '../parser/index.ts';
import { type ExecMountOp, type ExecOp, type Op, type Vertex, vertex } from '../solver/index.ts';
import { fromSource } from './dispatch-from.ts';
import {
  addStep,
  type ConvertContext,
  expandInStage,
  location,
  recordHistory,
  type StageState,
  stageExpandEnv,
} from './dispatch-state.ts';
import { BuildError } from './errors.ts';

const proxyArgs = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'];

export async function dispatchRun(
  ctx: ConvertContext,
  state: StageState,
  command: Extract<Command, { kind: 'run' }>,
): Promise<void> {
  const at = location(ctx, command.range);
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
    mounts.push(await convertMount(ctx, state, mount, at, inputIndex));
  }
  const sshSocket = withSshDefaults(mounts);
  let args: string[];
  const script = command.cmd.form === 'shell' ? shebangScript(command.cmd.line, command.heredocs) : undefined;
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
  if (sshSocket !== undefined && !env.some((entry) => entry.startsWith('SSH_AUTH_SOCK='))) {
    env.push(`SSH_AUTH_SOCK=${sshSocket}`);
  }
  const proxyEnv = proxyEnvFrom(ctx.options.buildArgs);
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
    ...sandboxFields(ctx.options.runSandbox),
  };
  const step = addStep(ctx, state, op, inputs, command);
  // BuildKit's runCommandString: every ARG of the stage, valued or not (`KEY=`), with the value
  // the step's env has for it (an ENV of the same name over the ARG).
  const runEnv = stageExpandEnv(state);
  const shownArgs = [...state.args].map(([k, v]) => `${k}=${runEnv.get(k) ?? v ?? ''}`);
  const prefix = shownArgs.length > 0 ? `|${shownArgs.length} ${shownArgs.join(' ')} ` : '';
  recordHistory(ctx, state, `RUN ${prefix}${args.join(' ')} # buildkit`, step);
}

/**
 * BuildKit's llb ExecOp: the i-th ssh mount of a RUN without a target gets
 * `/run/buildkit/ssh_agent.<i>`; SSH_AUTH_SOCK names the first one's socket (returned) unless the
 * step's env already has one.
 */
function withSshDefaults(mounts: ExecMountOp[]): string | undefined {
  const ssh = mounts.filter((m): m is Extract<ExecMountOp, { type: 'ssh' }> => m.type === 'ssh');
  ssh.forEach((mount, i) => {
    if (mount.target === '') mount.target = `/run/buildkit/ssh_agent.${i}`;
  });
  return ssh[0]?.target;
}

/** The op fields of `--add-host`, `--shm-size` and `--ulimit`, those given only. */
function sandboxFields(sandbox: ConvertContext['options']['runSandbox']): Partial<ExecOp> {
  if (sandbox === undefined) return {};
  return {
    ...(sandbox.extraHosts?.length ? { extraHosts: sandbox.extraHosts } : {}),
    ...(sandbox.shmSize ? { shmSize: sandbox.shmSize } : {}),
    ...(sandbox.ulimits?.length ? { ulimits: sandbox.ulimits } : {}),
  };
}

/**
 * One `--mount` as an op, its values expanded with the stage's ARG/ENV (BuildKit expands every
 * field but `from`). Relative targets are taken from the working directory.
 */
async function convertMount(
  ctx: ConvertContext,
  state: StageState,
  mount: RunMount,
  at: string,
  inputIndex: (v: Vertex) => number,
): Promise<ExecMountOp> {
  const word = (text: string) => expandInStage(ctx, state, text, at);
  if (mount.from?.includes('$')) {
    throw new BuildError("'from' doesn't support variable expansion, define alias stage instead", at);
  }
  const workdir = state.config.WorkingDir || '/';
  const target = mount.target === undefined ? undefined : posix.resolve(workdir, word(mount.target));
  const owner = { uid: mount.uid ?? 0, gid: mount.gid ?? 0 };
  const source = posix.resolve('/', word(mount.source ?? '/'));
  switch (mount.type) {
    case 'bind':
      return {
        type: 'bind',
        target: target as string,
        // `from` names a stage or an image; empty or absent is the build context (BuildKit's
        // convert_runmount.go only looks a `from` up when it is not "").
        input: inputIndex(mount.from ? await fromSource(ctx, state, mount.from, at) : ctx.context),
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
        ...(mount.from
          ? { seed: { input: inputIndex(await fromSource(ctx, state, mount.from, at)), source } }
          : {}),
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
      // The target, when not given, depends on the mount's place among the RUN's ssh mounts:
      // filled in by withSshDefaults.
      return {
        type: 'ssh',
        id: mount.id === undefined ? 'default' : word(mount.id),
        target: target ?? '',
        required: mount.required ?? false,
        ...owner,
        mode: mount.mode ?? 0o600,
      };
  }
}

/** A RUN with heredocs runs the whole script, bodies included, through the shell. */
function withHeredocs(line: string, heredocs: Heredoc[]): string {
  if (heredocs.length === 0) return line;
  // `RUN <<EOF` alone: the body is the script (BuildKit's dispatchRun runs it with the shell).
  // Joining it after the bare redirect would feed the body to an empty command as stdin.
  const only = loneHeredoc(line, heredocs);
  if (only !== undefined) return only.chomp ? chompHeredoc(only.content) : only.content;
  let script = line;
  for (const heredoc of heredocs) script += `\n${heredoc.content}${heredoc.name}`;
  return `${script}\n`;
}

/** The heredoc a RUN consists of alone, when its body starts with `#!`; chomped if `<<-`. */
function shebangScript(line: string, heredocs: Heredoc[]): { name: string; content: string } | undefined {
  const only = loneHeredoc(line, heredocs);
  if (only === undefined) return undefined;
  const content = only.chomp ? chompHeredoc(only.content) : only.content;
  return content.startsWith('#!') ? { name: only.name, content } : undefined;
}

/** The one heredoc of a RUN whose whole line is its `<<NAME` word. */
function loneHeredoc(line: string, heredocs: Heredoc[]): Heredoc | undefined {
  const only = heredocs.length === 1 ? heredocs[0] : undefined;
  if (only === undefined || /^<<-?(["']?)(.+)\1$/.exec(line.trim())?.[2] !== only.name) return undefined;
  return only;
}

/** A tmpfs `size=` in bytes: a number with an optional binary unit (go-units RAMInBytes). */
function parseSize(text: string, at: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) throw new BuildError(`invalid size: '${text}'`, at);
  const power = ' kmgtp'.indexOf((match[2] || ' ').toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

function proxyEnvFrom(buildArgs: Record<string, string>): string[] {
  const env: string[] = [];
  for (const [key, value] of Object.entries(buildArgs)) {
    if (proxyArgs.includes(key.toUpperCase())) env.push(`${key}=${value}`);
  }
  return env.sort();
}
