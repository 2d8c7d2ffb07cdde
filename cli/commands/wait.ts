import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { waitContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { printHelpIfAsked, usageError } from '../image-output.ts';

const usage = `
Usage:  tbuild wait CONTAINER [CONTAINER...]

Block until one or more containers stop, then print their exit codes
`;

/** `tbuild wait` (docker wait). */
export const waitCommand: Command = {
  summary: 'Block until one or more containers stop, then print their exit codes',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    let positionals: string[];
    try {
      ({ positionals } = parseArgs({ args: ctx.argv, options: {}, allowPositionals: true }));
    } catch (error) {
      usageError(error, 'wait');
    }
    if (positionals.length === 0) {
      throw new UsageError('"tbuild wait" requires at least 1 argument.', {
        hint: "See 'tbuild wait --help'.",
      });
    }
    const root = containerRoot(ctx);
    return forEachContainer(ctx, positionals, async (ref) => String(await waitContainer(root, ref)));
  },
};
