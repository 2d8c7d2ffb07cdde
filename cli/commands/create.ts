import { TbuildError } from '../../errors.ts';
import { createContainer, RunError } from '../../runtime/index.ts';
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
    const request = await toCreateRequest('create', containerRoot(ctx), line.values, image, args);
    let record: Awaited<ReturnType<typeof createContainer>>;
    try {
      record = await createContainer(request);
    } catch (error) {
      // docker-cli container/create.go runCreate: only its own parse errors are StatusError 125;
      // what the daemon refuses (no such image, a name in use) is a plain error, exit 1. `run`
      // differs: it exits 125 for those.
      if (!(error instanceof RunError) || error.exitCode !== 125) throw error;
      throw new TbuildError(error.message, {
        exitCode: 1,
        cause: error,
        ...(error.hint === undefined ? {} : { hint: error.hint }),
      });
    }
    ctx.stdout.write(`${record.Id}\n`);
    return 0;
  },
};
