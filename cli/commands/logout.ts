import { UsageError } from '../../errors.ts';
import { normalizeRegistryHost, removeCredentials } from '../../registry/index.ts';
import type { Command } from '../command.ts';
import { printHelpIfAsked } from '../image-output.ts';

const usage = `
Usage:  tbuild logout SERVER

Log out from a registry (removes its credentials from the Docker config)
`;

/** `tbuild logout SERVER` (docker logout). */
export const logoutCommand: Command = {
  summary: 'Log out from a registry',
  async run(ctx) {
    if (printHelpIfAsked(ctx, usage)) return 0;
    if (ctx.argv.length !== 1) {
      throw new UsageError('"tbuild logout" requires exactly 1 argument (the registry).', {
        hint: "See 'tbuild logout --help'.",
      });
    }
    const host = normalizeRegistryHost(ctx.argv[0] as string);
    const removed = await removeCredentials(host);
    ctx.stdout.write(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
    return 0;
  },
};
