import { TbuildError } from '../../errors.ts';
import { inspectContainer, startAttached, startContainer } from '../../runtime/index.ts';
import { attachOnTerminal, checkTty } from '../attach-terminal.ts';
import type { Command, CommandContext } from '../command.ts';
import { containerRoot, forEachContainer, keepPortsServed, selfCommand } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild start [OPTIONS] CONTAINER [CONTAINER...]

Start one or more stopped containers

With -a (or -i) tbuild stays attached and exits with the container's exit code; the detach keys
(Ctrl-P Ctrl-Q unless --detach-keys) leave it running.

Options:
  -a, --attach               Attach STDOUT/STDERR and forward signals
      --detach-keys string   Override the key sequence for detaching a container
  -i, --interactive          Attach container's STDIN
`;

/** `tbuild start` (docker start): prints each container as named, or attaches with -a/-i. */
export const startCommand: Command = {
  summary: 'Start one or more stopped containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'start',
      usage,
      options: {
        attach: { type: 'boolean', short: 'a' },
        interactive: { type: 'boolean', short: 'i' },
        'detach-keys': { type: 'string' },
      },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const root = containerRoot(ctx);
    if (values.attach || values.interactive) {
      if (positionals.length > 1) {
        throw new TbuildError('you cannot start and attach multiple containers at once');
      }
      return startWithAttach(
        ctx,
        root,
        positionals[0] as string,
        values.interactive === true,
        values['detach-keys'],
      );
    }
    return forEachContainer(ctx, positionals, async (ref) => {
      const started = await startContainer(root, ref, selfCommand(ctx));
      // Docker leaves a running container alone; its ports are served again if their forwarder died.
      await keepPortsServed(ctx, started.record.Id, started.record.Name);
    });
  },
};

/**
 * docker-cli container/start.go: stdout and stderr attached, stdin with -i when the container
 * has it open; signals forwarded without a terminal; the container's exit code, or 0 after the
 * detach keys.
 */
async function startWithAttach(
  ctx: CommandContext,
  root: string,
  ref: string,
  interactive: boolean,
  detachKeys: string | undefined,
): Promise<number> {
  const { record } = await inspectContainer(root, ref);
  const stdin = interactive && record.Config.OpenStdin;
  checkTty(record.Config.Tty, stdin);
  const result = await attachOnTerminal(
    ctx,
    { root, id: record.Id, tty: record.Config.Tty, stdin, sigProxy: true, detachKeys },
    (request) => startAttached(root, record.Id, selfCommand(ctx), request),
  );
  const code = await result.opened.finish(result.end);
  return result.signalled ?? code ?? 0;
}
