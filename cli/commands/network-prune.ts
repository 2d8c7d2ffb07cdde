import { pruneNetworks } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { confirm } from '../confirm.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild network prune [OPTIONS]

Remove all unused networks (user-defined ones without a running container)

Options:
  -f, --force   Do not prompt for confirmation
`;

/** `tbuild network prune` (docker network prune). */
export const networkPruneCommand: Command = {
  summary: 'Remove all unused networks',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'network prune',
      usage,
      options: { force: { type: 'boolean', short: 'f' } },
      args: { exactly: 0 },
    });
    if (line === undefined) return 0;
    // docker-cli network/prune.go asks on a second line.
    const warning =
      'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?';
    if (!line.values.force && !(await confirm(ctx, warning))) return 0;
    const removed = await pruneNetworks(containerRoot(ctx));
    if (removed.length > 0) ctx.stdout.write(`Deleted Networks:\n${removed.map((n) => `${n}\n`).join('')}\n`);
    return 0;
  },
};
