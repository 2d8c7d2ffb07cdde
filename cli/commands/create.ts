import { createContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerOptions, toCreateRequest } from '../container-flags.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild create [OPTIONS] IMAGE [COMMAND] [ARG...]

Create a new container (start it with tbuild start); prints its id

Options: as tbuild run (see tbuild run --help); -d is accepted and means nothing here
`;

/** `tbuild create` (docker create). */
export const createCommand: Command = {
  summary: 'Create a new container',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'create',
      usage,
      options: containerOptions,
      args: { min: 1 },
      stopAtPositional: true,
    });
    if (line === undefined) return 0;
    const [image, ...args] = line.positionals as [string, ...string[]];
    const record = await createContainer(await toCreateRequest(containerRoot(ctx), line.values, image, args));
    ctx.stdout.write(`${record.Id}\n`);
    return 0;
  },
};
