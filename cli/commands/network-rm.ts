import { removeNetwork } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild network rm NETWORK [NETWORK...]

Remove one or more networks

Aliases:
  rm, remove
`;

/** `tbuild network rm` (docker network rm): each name on success, an error line per failure, exit 1 if any. */
export const networkRmCommand: Command = {
  summary: 'Remove one or more networks',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'network rm', usage, options: {}, args: { min: 1 } });
    if (line === undefined) return 0;
    const root = containerRoot(ctx);
    return forEachContainer(ctx, line.positionals, (ref) => removeNetwork(root, ref));
  },
};
