import { commitContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]

Create a new image from a container's changes

Options:
  -a, --author string    Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
  -c, --change list      Apply Dockerfile instruction to the created image
  -m, --message string   Commit message
  -p, --pause            Pause container during commit (default true)
`;

/** `tbuild commit` (docker commit): prints the new image's id. */
export const commitCommand: Command = {
  summary: "Create a new image from a container's changes",
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'commit',
      usage,
      options: {
        author: { type: 'string', short: 'a' },
        change: { type: 'string', short: 'c', multiple: true },
        message: { type: 'string', short: 'm' },
        pause: { type: 'boolean', short: 'p', default: true },
      },
      args: { min: 1, max: 2 },
    });
    if (line === undefined) return 0;
    const { values, positionals } = line;
    const [ref, tag] = positionals as [string, string | undefined];
    const id = await commitContainer(containerRoot(ctx), ref, {
      ...(tag !== undefined ? { tag } : {}),
      ...(values.author !== undefined ? { author: values.author } : {}),
      ...(values.message !== undefined ? { message: values.message } : {}),
      changes: values.change ?? [],
      pause: values.pause !== false,
    });
    ctx.stdout.write(`${id}\n`);
    return 0;
  },
};
