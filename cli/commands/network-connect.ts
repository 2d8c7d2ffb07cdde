import { connectContainer, disconnectContainer } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const connectUsage = `
Usage:  tbuild network connect [OPTIONS] NETWORK CONTAINER

Connect a container to a network (at once when it runs, else when it starts)

Options:
      --alias strings   Add network-scoped alias for the container
      --ip string       IPv4 address (e.g., 172.30.100.104)
`;

const disconnectUsage = `
Usage:  tbuild network disconnect [OPTIONS] NETWORK CONTAINER

Disconnect a container from a network

Options:
  -f, --force   Force the container to disconnect from a network
`;

/** `tbuild network connect` (docker network connect). */
export const networkConnectCommand: Command = {
  summary: 'Connect a container to a network',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'network connect',
      usage: connectUsage,
      options: { alias: { type: 'string', multiple: true }, ip: { type: 'string' } },
      args: { exactly: 2 },
    });
    if (line === undefined) return 0;
    const [network, container] = line.positionals as [string, string];
    await connectContainer(containerRoot(ctx), network, container, {
      aliases: line.values.alias ?? [],
      ...(line.values.ip !== undefined ? { ip: line.values.ip } : {}),
    });
    return 0;
  },
};

/** `tbuild network disconnect` (docker network disconnect). */
export const networkDisconnectCommand: Command = {
  summary: 'Disconnect a container from a network',
  async run(ctx) {
    const line = parseCommandLine(ctx, {
      name: 'network disconnect',
      usage: disconnectUsage,
      options: { force: { type: 'boolean', short: 'f' } },
      args: { exactly: 2 },
    });
    if (line === undefined) return 0;
    const [network, container] = line.positionals as [string, string];
    await disconnectContainer(containerRoot(ctx), network, container);
    return 0;
  },
};
