import { killContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild kill [OPTIONS] CONTAINER [CONTAINER...]

Kill one or more running containers

Options:
  -s, --signal string   Signal to send to the container (default "KILL")
`;

/** `tbuild kill` (docker kill). */
export const killCommand: Command = {
  summary: 'Kill one or more running containers',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'kill',
      usage,
      options: { signal: { type: 'string', short: 's' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const root = containerRoot(ctx);
    return forEachContainer(ctx, positionals, (ref) => killContainer(root, ref, values.signal ?? 'KILL'));
  },
};
