import { cleanupContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, selfCommand } from '../containers.ts';

/**
 * `tbuild container-cleanup ID`: what a container's monitor (conmon) runs when the container
 * exits (runtime/monitor.ts). Not for users: cli/main.ts leaves it out of `tbuild --help`.
 */
export const containerCleanupCommand: Command = {
  summary: 'Record a container exit (run by the container monitor)',
  async run(ctx) {
    const [id] = ctx.argv;
    if (id === undefined) return 1;
    await cleanupContainer(containerRoot(ctx), id, selfCommand(ctx));
    return 0;
  },
};
