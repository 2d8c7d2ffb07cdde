import { attachRunning, ContainerError, inspectContainer } from '../../runtime/index.ts';
import { attachOnTerminal, checkTty } from '../attach-terminal.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild attach [OPTIONS] CONTAINER

Attach local standard input, output, and error streams to a running container

The detach keys (Ctrl-P Ctrl-Q unless --detach-keys) leave it running; tbuild then prints
"read escape sequence" and exits 1, as docker. Otherwise the exit code is the container's.

Options:
      --detach-keys string   Override the key sequence for detaching a container
      --no-stdin             Do not attach STDIN
      --sig-proxy            Proxy all received signals to the process (default true)
`;

/** `tbuild attach` (docker attach). */
export const attachCommand: Command = {
  summary: 'Attach local standard input, output, and error streams to a running container',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'attach',
      usage,
      options: {
        'detach-keys': { type: 'string' },
        'no-stdin': { type: 'boolean' },
        'sig-proxy': { type: 'boolean', default: true },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const root = containerRoot(ctx);
    const container = await inspectContainer(root, line.positionals[0] as string);
    const { Config } = container.record;
    // docker-cli container/attach.go: the state first, then the terminal.
    if (container.state.Status === 'paused') {
      throw new ContainerError('You cannot attach to a paused container, unpause it first');
    }
    if (container.state.Status !== 'running') {
      throw new ContainerError('You cannot attach to a stopped container, start it first');
    }
    const stdin = Config.OpenStdin && values['no-stdin'] !== true;
    checkTty(Config.Tty, stdin);
    const { Id } = container.record;
    const result = await attachOnTerminal(
      ctx,
      {
        root,
        id: Id,
        tty: Config.Tty,
        stdin,
        sigProxy: values['sig-proxy'] !== false,
        detachKeys: values['detach-keys'],
      },
      (request) => attachRunning(root, Id, request),
    );
    const code = await result.opened.finish(result.end);
    if (result.signalled !== undefined) return result.signalled;
    if (code !== undefined) return code;
    ctx.stderr.write('read escape sequence\n');
    return 1;
  },
};
