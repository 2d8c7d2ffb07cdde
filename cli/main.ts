import { existsSync } from 'node:fs';
import { TbuildError, UsageError } from '../errors.ts';
import { describeFsError, requireDirectory } from '../user-paths.ts';
import type { Command, GlobalOptions } from './command.ts';
import { type CommandGroup, commandGroups, findGroupCommand } from './command-groups.ts';
import { argumentCountError } from './flags.ts';
import { printVersion, versionLine } from './version.ts';

// Commands load lazily so that `tbuild parse` never pays for the image store or the executor.
// Each command adds one line here, in alphabetical order.
const commands: Record<string, () => Promise<Command>> = {
  attach: async () => (await import('./commands/attach.ts')).attachCommand,
  build: async () => (await import('./commands/build.ts')).buildCommand,
  commit: async () => (await import('./commands/commit.ts')).commitCommand,
  'container-cleanup': async () => (await import('./commands/container-cleanup.ts')).containerCleanupCommand,
  'container-prune': async () => (await import('./commands/container-prune.ts')).containerPruneCommand,
  cp: async () => (await import('./commands/cp.ts')).cpCommand,
  create: async () => (await import('./commands/create.ts')).createCommand,
  diff: async () => (await import('./commands/diff.ts')).diffCommand,
  du: async () => (await import('./commands/du.ts')).duCommand,
  exec: async () => (await import('./commands/exec.ts')).execCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  fsck: async () => (await import('./commands/fsck.ts')).fsckCommand,
  history: async () => (await import('./commands/history.ts')).historyCommand,
  images: async () => (await import('./commands/images.ts')).imagesCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
  inspect: async () => (await import('./commands/inspect.ts')).inspectCommand,
  kill: async () => (await import('./commands/kill.ts')).killCommand,
  load: async () => (await import('./commands/load.ts')).loadCommand,
  login: async () => (await import('./commands/login.ts')).loginCommand,
  logout: async () => (await import('./commands/logout.ts')).logoutCommand,
  logs: async () => (await import('./commands/logs.ts')).logsCommand,
  'network-connect': async () => (await import('./commands/network-connect.ts')).networkConnectCommand,
  'network-create': async () => (await import('./commands/network-create.ts')).networkCreateCommand,
  'network-disconnect': async () => (await import('./commands/network-connect.ts')).networkDisconnectCommand,
  'network-inspect': async () => (await import('./commands/network-inspect.ts')).networkInspectCommand,
  'network-ls': async () => (await import('./commands/network-ls.ts')).networkLsCommand,
  'network-prune': async () => (await import('./commands/network-prune.ts')).networkPruneCommand,
  'network-rm': async () => (await import('./commands/network-rm.ts')).networkRmCommand,
  parse: async () => (await import('./commands/parse.ts')).parseCommand,
  pause: async () => (await import('./commands/pause.ts')).pauseCommand,
  port: async () => (await import('./commands/port.ts')).portCommand,
  'port-forwarder': async () => (await import('./commands/port-forwarder.ts')).portForwarderCommand,
  prune: async () => (await import('./commands/prune.ts')).pruneCommand,
  ps: async () => (await import('./commands/ps.ts')).psCommand,
  pull: async () => (await import('./commands/pull.ts')).pullCommand,
  push: async () => (await import('./commands/push.ts')).pushCommand,
  rename: async () => (await import('./commands/rename.ts')).renameCommand,
  restart: async () => (await import('./commands/restart.ts')).restartCommand,
  rm: async () => (await import('./commands/rm.ts')).rmCommand,
  rmi: async () => (await import('./commands/rmi.ts')).rmiCommand,
  run: async () => (await import('./commands/run.ts')).runCommand,
  save: async () => (await import('./commands/save.ts')).saveCommand,
  start: async () => (await import('./commands/start.ts')).startCommand,
  stats: async () => (await import('./commands/stats.ts')).statsCommand,
  stop: async () => (await import('./commands/stop.ts')).stopCommand,
  tag: async () => (await import('./commands/tag.ts')).tagCommand,
  top: async () => (await import('./commands/top.ts')).topCommand,
  unpause: async () => (await import('./commands/pause.ts')).unpauseCommand,
  'volume-create': async () => (await import('./commands/volume-create.ts')).volumeCreateCommand,
  'volume-inspect': async () => (await import('./commands/volume-inspect.ts')).volumeInspectCommand,
  'volume-ls': async () => (await import('./commands/volume-ls.ts')).volumeLsCommand,
  'volume-prune': async () => (await import('./commands/volume-prune.ts')).volumePruneCommand,
  'volume-rm': async () => (await import('./commands/volume-rm.ts')).volumeRmCommand,
  wait: async () => (await import('./commands/wait.ts')).waitCommand,
};

/**
 * Left out of the top-level help: a container monitor's exit command, and the commands only
 * reached through their management group (`network ls` runs `network-ls`, `volume ls` `volume-ls`,
 * `container prune` `container-prune`; tbuild's own `prune` is the build cache's).
 */
function isHidden(name: string): boolean {
  return (
    name === 'container-cleanup' ||
    name === 'container-prune' ||
    name === 'port-forwarder' ||
    name.startsWith('network-') ||
    name.startsWith('volume-')
  );
}

const globalOptionsHelp = `Global Options:
      --debug         Print stack traces with errors (-D)
  -h, --help          Print usage
      --root string   Store root (default: $TBUILD_ROOT, /var/lib/tbuild as root, else $XDG_DATA_HOME/tbuild)
  -v, --version       Print version information and quit`;

/** The top-level help: every command with its one-line summary, then the command groups. */
async function printUsage(out: NodeJS.WritableStream): Promise<void> {
  const names = Object.keys(commands)
    .filter((name) => !isHidden(name))
    .sort();
  const loaded = await Promise.all(names.map((name) => (commands[name] as () => Promise<Command>)()));
  out.write(
    'Usage:  tbuild [OPTIONS] COMMAND\n\nA Dockerfile build engine and container runtime\n\nCommands:\n',
  );
  names.forEach((name, i) => {
    out.write(`  ${name.padEnd(11)} ${loaded[i]?.summary ?? ''}\n`);
  });
  out.write('\nManagement Commands:\n');
  for (const group of commandGroups) out.write(`  ${group.name.padEnd(11)} ${group.summary}\n`);
  out.write(`\n${globalOptionsHelp}\n\nRun 'tbuild COMMAND --help' for more information on a command.\n`);
}

async function printGroupUsage(group: CommandGroup, out: NodeJS.WritableStream): Promise<void> {
  out.write(`Usage:  tbuild ${group.name} COMMAND\n\n${group.summary}\n\nCommands:\n`);
  for (const [sub, target] of Object.entries(group.commands)) {
    if (!(target in commands)) continue;
    // A command of the group only is described; an alias names the command it runs.
    const text = isHidden(target)
      ? (await (commands[target] as () => Promise<Command>)()).summary
      : `= tbuild ${target}`;
    out.write(`  ${sub.padEnd(11)} ${text}\n`);
  }
  out.write(`\nRun 'tbuild ${group.name} COMMAND --help' for more information on a command.\n`);
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
      if (value === undefined)
        throw new UsageError('flag needs an argument: --root', { hint: "See 'tbuild --help'." });
      globals.root = value;
    } else if (arg.startsWith('--root=')) globals.root = arg.slice('--root='.length);
    else break;
  }
  return { globals, rest: argv.slice(i) };
}

/** An unknown command word (exit 1, as `docker frob`: "docker: unknown command: docker frob"). */
function unknownCommand(words: string): TbuildError {
  return new TbuildError(`unknown command: tbuild ${words}`, {
    hint: "Run 'tbuild --help' for more information",
  });
}

/**
 * Which command runs: a command name, a group's subcommand (`image ls` = `images`), or the build
 * short form. Only a word that names an existing path (`tbuild .`) or a flag first (`tbuild -t x .`)
 * is a build: any other unknown word is an unknown command, never a missing build folder.
 */
function pickCommand(rest: string[]): { name: string; label: string; args: string[] } | 'help' | 'version' {
  const [word, ...args] = rest;
  if (word === undefined) return 'help';
  if (word === '--version' || word === '-v') return 'version';
  if (word === 'version') {
    if (args.includes('--help') || args.includes('-h')) return 'version';
    if (args.length > 0) throw argumentCountError('version', '"tbuild version" accepts no arguments.');
    return 'version';
  }
  if (word in commands) return { name: word, label: word, args };
  const group = commandGroups.find((g) => g.name === word);
  if (group) {
    const [sub, ...subArgs] = args;
    if (sub === undefined || sub === '--help' || sub === '-h')
      return { name: `group:${group.name}`, label: group.name, args: [] };
    const target = findGroupCommand(group, sub);
    if (target === undefined || !(target in commands)) throw unknownCommand(`${group.name} ${sub}`);
    return { name: target, label: `${group.name} ${sub}`, args: subArgs };
  }
  if (word.startsWith('-') || (rest.length === 1 && existsSync(word)))
    return { name: 'build', label: 'build', args: rest };
  throw unknownCommand(word);
}

export async function main(argv: string[]): Promise<number> {
  let debug = argv.includes('--debug') || argv.includes('-D');
  try {
    const { globals, rest } = splitGlobals(argv);
    debug = globals.debug;
    const [first, ...afterFirst] = rest;
    if (first === '--help' || first === '-h') {
      await printUsage(process.stdout);
      return 0;
    }
    if (first === 'help') {
      // `tbuild help CMD` = `tbuild CMD --help`.
      if (afterFirst.length === 0) {
        await printUsage(process.stdout);
        return 0;
      }
      const topic = afterFirst.join(' ');
      const known = afterFirst[0] as string;
      if (!(known in commands) && !commandGroups.some((g) => g.name === known) && known !== 'version') {
        throw new TbuildError(`unknown help topic: ${topic}`, {
          hint: "Run 'tbuild --help' for more information",
        });
      }
      return await main([...argv.slice(0, argv.length - rest.length), ...afterFirst, '--help']);
    }
    const picked = pickCommand(rest);
    if (picked === 'help') {
      await printUsage(process.stdout);
      return 1;
    }
    if (picked === 'version') {
      if (first === 'version') printVersion(process.stdout);
      else process.stdout.write(`${versionLine()}\n`);
      return 0;
    }
    if (picked.name.startsWith('group:')) {
      const group = commandGroups.find((g) => `group:${g.name}` === picked.name) as CommandGroup;
      await printGroupUsage(group, process.stdout);
      return 0;
    }
    // A --root that exists but is no directory would fail deep inside the store with a path the
    // user never gave: say it here, in their words.
    if (globals.root !== undefined && existsSync(globals.root)) {
      await requireDirectory(globals.root, 'a directory for the store (--root, TBUILD_ROOT)');
    }
    const command = await (commands[picked.name] as () => Promise<Command>)();
    return await command.run({
      argv: picked.args,
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
  // An errno error on a path nobody wrapped is still the user's path (a full disk, a file that
  // went away): one line, not a stack.
  const reported = error instanceof TbuildError ? error : (describeFsError(error) ?? error);
  if (reported instanceof TbuildError) {
    if (reported.name === 'ParseError') {
      // A located Dockerfile error: the message, the offending line with a caret, the hint.
      const { formatParseError } = await import('./commands/parse.ts');
      const { ParseError } = await import('../parser/index.ts');
      if (reported instanceof ParseError) process.stderr.write(formatParseError(reported));
    } else {
      process.stderr.write(`ERROR: ${reported.message}\n`);
      // Docker's own pointers ("See 'docker build --help'.") are printed as Docker prints them.
      if (reported.hint)
        process.stderr.write(
          /^(See|Run) '/.test(reported.hint) ? `${reported.hint}\n` : `hint: ${reported.hint}\n`,
        );
    }
    const stack = reported === error ? reported.stack : (error as Error).stack;
    if (debug && stack) process.stderr.write(`${stack}\n`);
    return reported.exitCode;
  }
  // Not a user error: a bug in tbuild. Show everything so it can be reported.
  process.stderr.write(
    `internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 2;
}

// A reader that stops early (`tbuild build --check . | head -3`) closes the pipe we write to:
// that is no failure of the command, which goes on and ends as it would (nothing half-done, the
// same exit code), its further output discarded, not an unhandled 'error' event with a stack.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

// Not a top-level await: the bundle is a classic script (bin/tbuild.js caches its compiled code).
void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
