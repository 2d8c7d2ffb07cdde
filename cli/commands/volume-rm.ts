import { removeVolume } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild volume rm [OPTIONS] VOLUME [VOLUME...]

Remove one or more volumes. You cannot remove a volume that is in use by a container.

Aliases:
  rm, remove

Options:
  -f, --force   Force the removal of one or more volumes (a missing one is no error)
`;

/** `tbuild volume rm` (docker volume rm): each name on success, an error line per failure, exit 1 if any. */
export const volumeRmCommand: Command = {
  summary: 'Remove one or more volumes',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'volume rm',
      usage,
      options: { force: { type: 'boolean', short: 'f' } },
      args: { min: 1 },
    });
    if (line === undefined) return 0;
    const root = containerRoot(ctx);
    return forEachContainer(ctx, line.positionals, (name) =>
      removeVolume(root, name, line.values.force === true),
    );
  },
};
