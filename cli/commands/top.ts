import { topContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild top CONTAINER [ps OPTIONS]

Display the running processes of a container (ps -ef unless ps options are given)
`;

/** `tbuild top` (docker top). */
export const topCommand: Command = {
  summary: 'Display the running processes of a container',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'top',
      usage,
      options: {},
      args: { min: 1 },
      stopAtPositional: true,
    });
    if (line === undefined) return 0;
    const [ref, ...psArgs] = line.positionals as [string, ...string[]];
    ctx.stdout.write(await topContainer(containerRoot(ctx), ref, psArgs));
    return 0;
  },
};
