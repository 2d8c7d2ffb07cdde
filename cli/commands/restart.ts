import { restartContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer, selfCommand } from '../containers.ts';
import { intFlag, parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild restart [OPTIONS] CONTAINER [CONTAINER...]

Restart one or more containers

Options:
  -t, --time int   Seconds to wait for stop before killing the container
`;

/** `tbuild restart` (docker restart). */
export const restartCommand: Command = {
  summary: 'Restart one or more containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'restart',
      usage,
      options: { time: { type: 'string', short: 't' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const time = line.values.time;
    const timeout = time === undefined ? undefined : intFlag('restart', { long: 'time', short: 't' }, time);
    const root = containerRoot(ctx);
    return forEachContainer(ctx, line.positionals, (ref) =>
      restartContainer(root, ref, selfCommand(ctx), timeout),
    );
  },
};
