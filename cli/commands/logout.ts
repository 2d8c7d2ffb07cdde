import { normalizeRegistryHost, removeCredentials } from '../../registry/index.ts';
import type { Command } from '../command.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild logout SERVER

Log out from a registry (removes its credentials from the Docker config)
`;

/** `tbuild logout SERVER` (docker logout). */
export const logoutCommand: Command = {
  summary: 'Log out from a registry',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'logout', usage, options: {}, args: { exactly: 1 } });
    if (line === undefined) return 0;
    const host = normalizeRegistryHost(line.positionals[0] as string);
    const removed = await removeCredentials(host);
    ctx.stdout.write(removed ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
    return 0;
  },
};
