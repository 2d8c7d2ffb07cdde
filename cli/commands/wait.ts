import { waitContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild wait CONTAINER [CONTAINER...]

Block until one or more containers stop, then print their exit codes
`;

/** `tbuild wait` (docker wait). */
export const waitCommand: Command = {
  summary: 'Block until one or more containers stop, then print their exit codes',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'wait', usage, options: {}, args: { min: 1 } });
    if (line === undefined) return 0;
    const root = containerRoot(ctx);
    return forEachContainer(ctx, line.positionals, async (ref) => String(await waitContainer(root, ref)));
  },
};
