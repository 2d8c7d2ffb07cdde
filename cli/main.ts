import { TbuildError, UsageError } from '../errors.ts';
import type { Command, GlobalOptions } from './command.ts';

// Commands load lazily so that `tbuild parse` never pays for the image store or the executor.
// Each command adds one line here, in alphabetical order.
const commands: Record<string, () => Promise<Command>> = {
  build: async () => (await import('./commands/build.ts')).buildCommand,
  'container-cleanup': async () => (await import('./commands/container-cleanup.ts')).containerCleanupCommand,
  create: async () => (await import('./commands/create.ts')).createCommand,
  du: async () => (await import('./commands/du.ts')).duCommand,
  fsck: async () => (await import('./commands/fsck.ts')).fsckCommand,
  history: async () => (await import('./commands/history.ts')).historyCommand,
  images: async () => (await import('./commands/images.ts')).imagesCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
  kill: async () => (await import('./commands/kill.ts')).killCommand,
  inspect: async () => (await import('./commands/inspect.ts')).inspectCommand,
  load: async () => (await import('./commands/load.ts')).loadCommand,
  logs: async () => (await import('./commands/logs.ts')).logsCommand,
  login: async () => (await import('./commands/login.ts')).loginCommand,
  logout: async () => (await import('./commands/logout.ts')).logoutCommand,
  parse: async () => (await import('./commands/parse.ts')).parseCommand,
  ps: async () => (await import('./commands/ps.ts')).psCommand,
  pull: async () => (await import('./commands/pull.ts')).pullCommand,
  prune: async () => (await import('./commands/prune.ts')).pruneCommand,
  push: async () => (await import('./commands/push.ts')).pushCommand,
  rm: async () => (await import('./commands/rm.ts')).rmCommand,
  rmi: async () => (await import('./commands/rmi.ts')).rmiCommand,
  run: async () => (await import('./commands/run.ts')).runCommand,
  save: async () => (await import('./commands/save.ts')).saveCommand,
  start: async () => (await import('./commands/start.ts')).startCommand,
  stop: async () => (await import('./commands/stop.ts')).stopCommand,
  tag: async () => (await import('./commands/tag.ts')).tagCommand,
  wait: async () => (await import('./commands/wait.ts')).waitCommand,
};

/** Internal commands, left out of the help: a container monitor's exit command. */
const hiddenCommands = new Set(['container-cleanup']);

function printUsage(out: NodeJS.WritableStream): void {
  out.write('Usage:  tbuild [--root DIR] [--debug] COMMAND [ARGS...]\n\nCommands:\n');
  for (const name of Object.keys(commands).sort()) if (!hiddenCommands.has(name)) out.write(`  ${name}\n`);
  out.write('\nRun "tbuild COMMAND --help" for more information on a command.\n');
}

/** Splits the global flags off the front of argv; the first non-flag word is the command. */
function splitGlobals(argv: string[]): { globals: GlobalOptions; rest: string[] } {
  const globals: GlobalOptions = { root: process.env.TBUILD_ROOT || undefined, debug: false };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--debug' || arg === '-D') globals.debug = true;
    else if (arg === '--root') {
      const value = argv[++i];
      if (value === undefined) throw new UsageError('flag needs an argument: --root');
      globals.root = value;
    } else if (arg.startsWith('--root=')) globals.root = arg.slice('--root='.length);
    else break;
  }
  return { globals, rest: argv.slice(i) };
}

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug') || argv.includes('-D');
  try {
    const { globals, rest } = splitGlobals(argv);
    debug = globals.debug;
    let [name, ...args] = rest;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      printUsage(process.stdout);
      return name === undefined ? 1 : 0;
    }
    // `tbuild -t name .` is the short form of `tbuild build -t name .`.
    if (name.startsWith('-') || (!(name in commands) && 'build' in commands && rest.length === 1)) {
      args = rest;
      name = 'build';
    }
    const load = commands[name];
    if (load === undefined) {
      throw new UsageError(`unknown command: "${name}"`, { hint: 'See "tbuild --help".' });
    }
    const command = await load();
    return await command.run({
      argv: args,
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      globals,
    });
  } catch (error) {
    return await reportError(error, debug);
  }
}

async function reportError(error: unknown, debug: boolean): Promise<number> {
  if (error instanceof TbuildError) {
    if (error.name === 'ParseError') {
      // A located Dockerfile error: the message, the offending line with a caret, the hint.
      const { formatParseError } = await import('./commands/parse.ts');
      const { ParseError } = await import('../parser/index.ts');
      if (error instanceof ParseError) process.stderr.write(formatParseError(error));
    } else {
      process.stderr.write(`ERROR: ${error.message}\n`);
      if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    }
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  // Not a user error: a bug in tbuild. Show everything so it can be reported.
  process.stderr.write(
    `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 2;
}

// Not a top-level await: the bundle is a classic script (bin/tbuild.js caches its compiled code).
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
