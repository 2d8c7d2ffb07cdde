import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { killContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { printHelpIfAsked, usageError } from '../image-output.ts';

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
    if (printHelpIfAsked(ctx, usage)) return 0;
    let values: { signal?: string };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: ctx.argv,
        options: { signal: { type: 'string', short: 's' } },
        allowPositionals: true,
      }));
    } catch (error) {
      usageError(error, 'kill');
    }
    if (positionals.length === 0) {
      throw new UsageError('"tbuild kill" requires at least 1 argument.', {
        hint: "See 'tbuild kill --help'.",
      });
    }
    const root = containerRoot(ctx);
    return forEachContainer(ctx, positionals, (ref) => killContainer(root, ref, values.signal ?? 'KILL'));
  },
};
