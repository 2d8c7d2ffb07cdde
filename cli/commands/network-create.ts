import { createNetwork, NetworkError } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { parseLabels } from '../container-flags.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild network create [OPTIONS] NETWORK

Create a network (a bridge in a network namespace of tbuild's own; the host's network set-up is
left as it is)

Options:
  -d, --driver string    Driver to manage the Network (default "bridge", the only one)
      --gateway string   IPv4 Gateway for the master subnet
      --internal         Restrict external access to the network
      --label list       Set metadata on a network
      --subnet string    Subnet in CIDR format that represents a network segment
`;

/** `tbuild network create` (docker network create): prints the new network's id. */
export const networkCreateCommand: Command = {
  summary: 'Create a network',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'network create',
      usage,
      options: {
        driver: { type: 'string', short: 'd' },
        gateway: { type: 'string' },
        internal: { type: 'boolean' },
        label: { type: 'string', multiple: true },
        subnet: { type: 'string' },
      },
      args: { exactly: 1 },
    });
    if (line === undefined) return 0;
    const { values } = line;
    const name = line.positionals[0] as string;
    if (values.gateway !== undefined && values.subnet === undefined) {
      throw new NetworkError('every ip-range or gateway must have a corresponding subnet');
    }
    const network = await createNetwork(containerRoot(ctx), {
      name,
      ...(values.driver !== undefined ? { driver: values.driver } : {}),
      ...(values.subnet !== undefined ? { subnet: values.subnet } : {}),
      ...(values.gateway !== undefined ? { gateway: values.gateway } : {}),
      internal: values.internal === true,
      labels: parseLabels(values.label),
    });
    ctx.stdout.write(`${network.Id}\n`);
    return 0;
  },
};
