import { startContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer, keepPortsServed, selfCommand } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild start CONTAINER [CONTAINER...]

Start one or more stopped containers
`;

/** `tbuild start` (docker start): prints each container as named. */
export const startCommand: Command = {
  summary: 'Start one or more stopped containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'start', usage, options: {}, args: { min: 1 } });
    if (line === undefined) return 0;
    const root = containerRoot(ctx);
    return forEachContainer(ctx, line.positionals, async (ref) => {
      const started = await startContainer(root, ref, selfCommand(ctx));
      // Docker leaves a running container alone; its ports are served again if their forwarder died.
      await keepPortsServed(ctx, started.record.Id, started.record.Name);
    });
  },
};
