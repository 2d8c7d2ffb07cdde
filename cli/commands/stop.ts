import { stopContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { intFlag, parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild stop [OPTIONS] CONTAINER [CONTAINER...]

Stop one or more running containers

Options:
  -t, --time int   Seconds to wait for stop before killing it (default: the container's
                   --stop-timeout, else 10)
`;

/** `tbuild stop` (docker stop): the stop signal, then SIGKILL after the timeout. */
export const stopCommand: Command = {
  summary: 'Stop one or more running containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'stop',
      usage,
      options: { time: { type: 'string', short: 't' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const timeout =
      values.time === undefined ? undefined : intFlag('stop', { long: 'time', short: 't' }, values.time);
    const root = containerRoot(ctx);
    return forEachContainer(ctx, positionals, (ref) => stopContainer(root, ref, timeout));
  },
};
