import { UsageError } from '../../errors.ts';
import { createContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseContainerFlags, splitAtImage, toCreateRequest } from '../container-flags.ts';
import { containerRoot } from '../containers.ts';

const usage = `
Usage:  tbuild create [OPTIONS] IMAGE [COMMAND] [ARG...]

Create a new container (start it with tbuild start); prints its id

Options: as tbuild run (see tbuild run --help), without -d
`;

/** `tbuild create` (docker create). */
export const createCommand: Command = {
  summary: 'Create a new container',
  async run(ctx) {
    const { flags, rest } = splitAtImage(ctx.argv);
    const values = parseContainerFlags('create', flags);
    if (values.help) {
      ctx.stdout.write(usage);
      return 0;
    }
    const [image, ...args] = rest;
    if (image === undefined) {
      throw new UsageError('"tbuild create" requires at least 1 argument.', {
        hint: "See 'tbuild create --help'.\n\nUsage:  tbuild create [OPTIONS] IMAGE [COMMAND] [ARG...]",
      });
    }
    const record = await createContainer(toCreateRequest(containerRoot(ctx), values, image, args));
    ctx.stdout.write(`${record.Id}\n`);
    return 0;
  },
};
