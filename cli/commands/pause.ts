import { pauseContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, forEachContainer } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

function pauseLike(name: 'pause' | 'unpause', summary: string): Command {
  const usage = `
Usage:  tbuild ${name} CONTAINER [CONTAINER...]

${summary}
`;
  return {
    summary,
    async run(ctx) {
      const line = parseCommandLine(ctx, { name, usage, options: {}, args: { min: 1 } });
      if (line === undefined) return 0;
      const root = containerRoot(ctx);
      return forEachContainer(ctx, line.positionals, (ref) => pauseContainer(root, ref, name === 'pause'));
    },
  };
}

/** `tbuild pause` / `unpause` (docker pause): runc's cgroup freezer. */
export const pauseCommand = pauseLike('pause', 'Pause all processes within one or more containers');
export const unpauseCommand = pauseLike('unpause', 'Unpause all processes within one or more containers');
