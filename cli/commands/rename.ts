import { renameContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild rename CONTAINER NEW_NAME

Rename a container
`;

/** `tbuild rename` (docker rename): prints nothing. */
export const renameCommand: Command = {
  summary: 'Rename a container',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'rename', usage, options: {}, args: { exactly: 2 } });
    if (line === undefined) return 0;
    const [ref, name] = line.positionals as [string, string];
    await renameContainer(containerRoot(ctx), ref, name);
    return 0;
  },
};
