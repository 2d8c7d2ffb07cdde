import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { startContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer, selfCommand } from '../containers.ts';
import { printHelpIfAsked, usageError } from '../image-output.ts';

const usage = `
Usage:  tbuild start CONTAINER [CONTAINER...]

Start one or more stopped containers
`;

/** `tbuild start` (docker start): prints each container as named. */
export const startCommand: Command = {
  summary: 'Start one or more stopped containers',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    let positionals: string[];
    try {
      ({ positionals } = parseArgs({ args: ctx.argv, options: {}, allowPositionals: true }));
    } catch (error) {
      usageError(error, 'start');
    }
    if (positionals.length === 0) {
      throw new UsageError('"tbuild start" requires at least 1 argument.', {
        hint: "See 'tbuild start --help'.",
      });
    }
    const root = containerRoot(ctx);
    return forEachContainer(ctx, positionals, async (ref) => {
      await startContainer(root, ref, selfCommand(ctx));
    });
  },
};
