// AST → typed instructions (commands.ts), one kind per instruction, grouped into stages.
// BuildKit: frontend/dockerfile/instructions/parse.go (ParseInstruction, Parse).

import type { ArgCommand, Command, Instructions, ShellOrExec, Stage } from './commands.ts';
import { formatDuration, parseDuration } from './duration.ts';
import { ParseError, SyntaxFault } from './errors.ts';
import { type FlagValues, parseFlags } from './flags.ts';
import { heredocFromWord } from './heredoc.ts';
import { parseMount } from './run-mount.ts';
import { suggest } from './suggest.ts';
import { trimGo } from './text.ts';
import type { Heredoc, Node, ParsedDockerfile, Pos, Range } from './types.ts';

const known = [
  'ADD',
  'ARG',
  'CMD',
  'COPY',
  'ENTRYPOINT',
  'ENV',
  'EXPOSE',
  'FROM',
  'HEALTHCHECK',
  'LABEL',
  'MAINTAINER',
  'ONBUILD',
  'RUN',
  'SHELL',
  'STOPSIGNAL',
  'USER',
  'VOLUME',
  'WORKDIR',
];
const stageName = /^[a-z][a-z0-9-_.]*$/;
const minInterval = 1e6; // 1ms, BuildKit's minimum for non-zero health-check durations

/** Converts a parsed Dockerfile to typed stages. Throws ParseError, located, for invalid instructions. */
export function toInstructions(ast: ParsedDockerfile): Instructions {
  const stages: Stage[] = [];
  const metaArgs: ArgCommand[] = [];
  for (const node of ast.nodes) {
    const fail = failer(ast, node);
    if (node.keyword === 'FROM') {
      // A repeated stage name is BuildKit's DuplicateStageName check warning, not an error
      // (dockerfile2llb validateStageNames); frontend/checks reports it.
      stages.push(parseFrom(node, stages.length, fail));
      continue;
    }
    const command = parseCommand(node, fail);
    const stage = stages[stages.length - 1];
    if (stage === undefined) {
      if (command.kind === 'arg') metaArgs.push(command);
      else
        fail('no build stage in current context', node.range.start, {
          hint: `only ARG may come before the first FROM; move ${node.keyword} below a FROM line`,
        });
      continue;
    }
    stage.commands.push(command);
    stage.range = { start: stage.range.start, end: node.range.end };
  }
  return { stages, metaArgs };
}

type Fail = (reason: string, pos: Pos, extra?: { hint?: string; cause?: unknown }) => never;

function failer(ast: ParsedDockerfile, node: Node): Fail {
  return (reason, pos, extra = {}) => {
    const sourceLine = ast.lines[pos.line - 1] ?? node.original;
    throw new ParseError(reason, { file: ast.file, pos, sourceLine, range: node.range, ...extra });
  };
}

function parseFrom(node: Node, index: number, fail: Fail): Stage {
  const flags = checkFlags(node, fail);
  const args = node.args;
  if (!(args.length === 1 || (args.length === 3 && (args[1] as string).toLowerCase() === 'as'))) {
    fail('FROM requires either one or three arguments', node.argsPosition, {
      hint: 'write FROM <image> or FROM <image> AS <name>',
    });
  }
  const stage: Stage = { index, base: args[0] as string, commands: [], range: node.range };
  if (args.length === 3) {
    const name = (args[2] as string).toLowerCase();
    if (!stageName.test(name)) {
      fail(
        `invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`,
        node.argsPosition,
        { hint: 'stage names match [a-z][a-z0-9-_.]*' },
      );
    }
    stage.name = name;
  }
  const platform = flags.strings.get('platform');
  if (platform !== undefined) stage.platform = platform;
  return stage;
}

function checkFlags(node: Node, fail: Fail): FlagValues {
  try {
    return parseFlags(node.keyword, node.flags);
  } catch (e) {
    if (!(e instanceof SyntaxFault)) throw e;
    const pos = node.flagPositions[e.offset ?? 0] ?? node.range.start;
    return fail(e.message, pos, { hint: e.hint });
  }
}

function base(node: Node): { range: Range; source: string } {
  return { range: node.range, source: node.original };
}

function requireArgs(node: Node, fail: Fail, min: number, exact = false): void {
  const n = node.args.length;
  if (exact ? n !== min : n < min) {
    const what = exact
      ? 'exactly one argument'
      : min === 1
        ? 'at least one argument'
        : `at least ${min} arguments`;
    fail(`${node.keyword} requires ${what}`, node.argsPosition, { hint: usage[node.keyword] });
  }
}

const usage: Record<string, string> = {
  ADD: 'write ADD <src>... <dest>',
  ARG: 'write ARG <name>[=<default>]',
  COPY: 'write COPY <src>... <dest>',
  EXPOSE: 'write EXPOSE <port>[/<protocol>]...',
  HEALTHCHECK: 'write HEALTHCHECK CMD <command> or HEALTHCHECK NONE',
  MAINTAINER: 'write MAINTAINER <name>',
  ONBUILD: 'write ONBUILD <instruction>',
  RUN: 'write RUN <command> or RUN ["executable", "arg"]',
  SHELL: 'write SHELL ["executable", "parameters"]',
  STOPSIGNAL: 'write STOPSIGNAL <signal>',
  USER: 'write USER <user>[:<group>]',
  VOLUME: 'write VOLUME <path>... or VOLUME ["<path>"]',
  WORKDIR: 'write WORKDIR <path>',
};

function shellOrExec(node: Node): ShellOrExec {
  return node.json ? { form: 'exec', argv: node.args } : { form: 'shell', line: node.args[0] ?? '' };
}

/** One non-FROM instruction. */
function parseCommand(node: Node, fail: Fail): Command {
  const flags = checkFlags(node, fail);
  switch (node.keyword) {
    case 'RUN': {
      // No arguments is accepted, as BuildKit's parseShellDependentCommand does: it runs `sh -c ''`.
      const cmd: Command = {
        kind: 'run',
        ...base(node),
        cmd: shellOrExec(node),
        mounts: [],
        heredocs: node.heredocs,
      };
      const mountFlags = node.flagPositions.filter((_, k) => node.flags[k]?.startsWith('--mount=') === true);
      for (const [i, spec] of (flags.lists.get('mount') ?? []).entries()) {
        const at = mountFlags[i] ?? node.range.start;
        cmd.mounts.push(parseMount(spec, (reason, hint) => fail(reason, at, { hint })));
      }
      const network = flags.strings.get('network');
      if (network !== undefined) {
        if (network !== 'default' && network !== 'none' && network !== 'host') {
          fail(`unsupported network mode ${JSON.stringify(network)}`, flagAt(node, 'network'), {
            hint: 'use --network=default, none or host',
          });
        }
        cmd.network = network;
      }
      const security = flags.strings.get('security');
      if (security !== undefined) {
        if (security !== 'sandbox' && security !== 'insecure') {
          fail(`unsupported security mode ${JSON.stringify(security)}`, flagAt(node, 'security'), {
            hint: 'use --security=sandbox or insecure',
          });
        }
        cmd.security = security;
      }
      return cmd;
    }
    case 'COPY':
    case 'ADD': {
      const n = node.args.length;
      if (n < 2) {
        const reason =
          n === 1
            ? `${node.keyword} requires at least two arguments, but only one was provided. Destination could not be determined.`
            : `${node.keyword} requires at least two arguments`;
        fail(reason, node.argsPosition, { hint: usage[node.keyword] });
      }
      const sources: string[] = [];
      const heredocs: Heredoc[] = [];
      for (const src of node.args.slice(0, -1)) {
        const doc = node.json ? undefined : safeHeredoc(src);
        const body = doc && node.heredocs.find((h) => h.name === doc.name);
        if (body) heredocs.push(body);
        else sources.push(src);
      }
      const dest = node.args[n - 1] as string;
      const common = {
        ...base(node),
        sources,
        dest,
        link: flags.bools.get('link') ?? false,
        exclude: flags.lists.get('exclude') ?? [],
        heredocs,
      };
      const chown = flags.strings.get('chown');
      const chmod = flags.strings.get('chmod');
      if (node.keyword === 'COPY') {
        const cmd: Command = { kind: 'copy', ...common, parents: flags.bools.get('parents') ?? false };
        const from = flags.strings.get('from');
        if (from !== undefined) cmd.from = from;
        if (chown !== undefined) cmd.chown = chown;
        if (chmod !== undefined) cmd.chmod = chmod;
        return cmd;
      }
      const cmd: Command = { kind: 'add', ...common, keepGitDir: flags.bools.get('keep-git-dir') ?? false };
      const checksum = flags.strings.get('checksum');
      if (checksum !== undefined) cmd.checksum = checksum;
      if (chown !== undefined) cmd.chown = chown;
      if (chmod !== undefined) cmd.chmod = chmod;
      return cmd;
    }
    case 'ENV':
    case 'LABEL': {
      requireArgs(node, fail, 1);
      const pairs: [string, string][] = [];
      for (let i = 0; i < node.args.length; i += 3) {
        const key = node.args[i] as string;
        if (key === '') {
          fail(`${node.keyword} names can not be blank`, node.argsPosition, {
            hint: `write ${node.keyword} <name>=<value>`,
          });
        }
        pairs.push([key, node.args[i + 1] ?? '']);
      }
      const legacy = node.args[2] === '' ? { legacy: true as const } : {};
      return { kind: node.keyword === 'ENV' ? 'env' : 'label', ...base(node), pairs, ...legacy };
    }
    case 'ARG': {
      requireArgs(node, fail, 1);
      const args = node.args.map((word) => {
        const eq = word.indexOf('=');
        const key = eq < 0 ? word : word.slice(0, eq);
        if (key === '') fail('ARG names can not be blank', node.argsPosition, { hint: usage.ARG });
        return eq < 0 ? { key } : { key, value: word.slice(eq + 1) };
      });
      return { kind: 'arg', ...base(node), args };
    }
    case 'WORKDIR':
    case 'USER':
    case 'STOPSIGNAL':
    case 'MAINTAINER': {
      requireArgs(node, fail, 1, true);
      const kind = node.keyword.toLowerCase() as 'workdir' | 'user' | 'stopsignal' | 'maintainer';
      return { kind, ...base(node), value: node.args[0] as string };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { kind: node.keyword === 'CMD' ? 'cmd' : 'entrypoint', ...base(node), cmd: shellOrExec(node) };
    case 'SHELL':
      if (!node.json) {
        fail('SHELL requires the arguments to be in JSON form', node.argsPosition, { hint: usage.SHELL });
      }
      requireArgs(node, fail, 1);
      return { kind: 'shell', ...base(node), cmd: shellOrExec(node) };
    case 'EXPOSE':
      requireArgs(node, fail, 1);
      return { kind: 'expose', ...base(node), values: node.args };
    case 'VOLUME': {
      requireArgs(node, fail, 1);
      const values = node.args.map((v) => trimGo(v));
      if (values.includes('')) {
        fail('VOLUME specified can not be an empty string', node.argsPosition, { hint: usage.VOLUME });
      }
      return { kind: 'volume', ...base(node), values };
    }
    case 'HEALTHCHECK':
      return parseHealthcheck(node, flags, fail);
    case 'ONBUILD': {
      const sub = node.sub;
      if (sub === undefined)
        return fail('ONBUILD requires at least one argument', node.argsPosition, { hint: usage.ONBUILD });
      if (sub.keyword === 'ONBUILD') {
        fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed", sub.range.start, {
          hint: usage.ONBUILD,
        });
      }
      if (sub.keyword === 'FROM' || sub.keyword === 'MAINTAINER') {
        fail(`${sub.keyword} isn't allowed as an ONBUILD trigger`, sub.range.start, { hint: usage.ONBUILD });
      }
      return {
        kind: 'onbuild',
        ...base(node),
        trigger: trimGo(sub.original),
        command: parseCommand(sub, fail),
      };
    }
    default: {
      const close = suggest(node.keyword, known);
      return fail(`unknown instruction: ${node.keyword}`, node.range.start, {
        hint: close === undefined ? `instructions are ${known.join(', ')}` : `did you mean ${close}?`,
      });
    }
  }
}

function safeHeredoc(word: string): { name: string } | undefined {
  try {
    return heredocFromWord(word);
  } catch {
    return undefined; // a malformed heredoc word is an ordinary path here, as in BuildKit
  }
}

function flagAt(node: Node, name: string): Pos {
  const i = node.flags.findIndex((f) => f === `--${name}` || f.startsWith(`--${name}=`));
  return node.flagPositions[i] ?? node.range.start;
}

function parseHealthcheck(node: Node, flags: FlagValues, fail: Fail): Command {
  requireArgs(node, fail, 1);
  const type = (node.args[0] as string).toUpperCase();
  const cmd: Extract<Command, { kind: 'healthcheck' }> = { kind: 'healthcheck', ...base(node), test: 'NONE' };
  if (type === 'NONE') {
    if (node.args.length !== 1 || node.flags.length > 0) {
      fail('HEALTHCHECK NONE takes no arguments', node.argsPosition, {
        hint: 'write HEALTHCHECK NONE alone',
      });
    }
    return cmd;
  }
  if (type !== 'CMD') {
    fail(`Unknown type ${JSON.stringify(type)} in HEALTHCHECK (try CMD)`, node.argsPosition, {
      hint: usage.HEALTHCHECK,
    });
  }
  const rest = node.args.slice(1);
  if (rest.length === 0)
    fail('Missing command after HEALTHCHECK CMD', node.argsPosition, { hint: usage.HEALTHCHECK });
  cmd.test = node.json ? ['CMD', ...rest] : ['CMD-SHELL', rest[0] as string];
  const durations = [
    ['interval', 'interval'],
    ['timeout', 'timeout'],
    ['start-period', 'startPeriod'],
    ['start-interval', 'startInterval'],
  ] as const;
  for (const [flag, field] of durations) {
    const text = flags.strings.get(flag);
    if (text === undefined) continue;
    let ns: number;
    try {
      ns = parseDuration(text);
    } catch (e) {
      if (!(e instanceof SyntaxFault)) throw e;
      return fail(e.message, flagAt(node, flag), {
        hint: `write --${flag}=30s (units: ns, us, ms, s, m, h)`,
      });
    }
    const hint = `use 0s for the default or at least ${formatDuration(minInterval)}`;
    if (ns < 0) fail(`Interval ${JSON.stringify(flag)} cannot be negative`, flagAt(node, flag), { hint });
    if (ns !== 0 && ns < minInterval) {
      const reason = `Interval ${JSON.stringify(flag)} cannot be less than ${formatDuration(minInterval)}`;
      fail(reason, flagAt(node, flag), { hint });
    }
    cmd[field] = ns;
  }
  const retries = flags.strings.get('retries');
  if (retries !== undefined) {
    if (!/^[+-]?\d+$/.test(retries)) {
      fail(`strconv.ParseInt: parsing ${JSON.stringify(retries)}: invalid syntax`, flagAt(node, 'retries'), {
        hint: 'write --retries=<number>',
      });
    }
    const n = Number.parseInt(retries, 10);
    if (n < 0)
      fail(`--retries cannot be negative (${n})`, flagAt(node, 'retries'), { hint: 'use 0 for the default' });
    cmd.retries = n;
  }
  return cmd;
}
