import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.ts';
import { removeContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { printHelpIfAsked, usageError } from '../image-output.ts';

const usage = `
Usage:  tbuild rm [OPTIONS] CONTAINER [CONTAINER...]

Remove one or more containers

Options:
  -f, --force     Force the removal of a running container (uses SIGKILL)
  -v, --volumes   Remove anonymous volumes associated with the container (tbuild has none)
`;

/** `tbuild rm` (docker rm). */
export const rmCommand: Command = {
  summary: 'Remove one or more containers',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    let values: { force?: boolean; volumes?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: ctx.argv,
        options: { force: { type: 'boolean', short: 'f' }, volumes: { type: 'boolean', short: 'v' } },
        allowPositionals: true,
      }));
    } catch (error) {
      usageError(error, 'rm');
    }
    if (positionals.length === 0) {
      throw new UsageError('"tbuild rm" requires at least 1 argument.', { hint: "See 'tbuild rm --help'." });
    }
    const root = containerRoot(ctx);
    return forEachContainer(ctx, positionals, (ref) => removeContainer(root, ref, values.force === true));
  },
};
