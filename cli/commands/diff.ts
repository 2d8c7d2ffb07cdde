import { containerChanges } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild diff CONTAINER

Inspect changes to files or directories on a container's filesystem

Each line is A (added), C (changed) or D (deleted) and the path, as docker diff prints them
(dockerd 20.10's rules; siblings sorted by name).
`;

/** `tbuild diff` (docker diff). */
export const diffCommand: Command = {
  summary: "Inspect changes to files or directories on a container's filesystem",
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'diff', usage, options: {}, args: { exactly: 1 } });
    if (line === undefined) return 0;
    const changes = await containerChanges(containerRoot(ctx), line.positionals[0] as string);
    ctx.stdout.write(changes.map((c) => `${c.kind} ${c.path}\n`).join(''));
    return 0;
  },
};
