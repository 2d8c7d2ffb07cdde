import { inspectContainer, portAddressLines, portMappingLines, publishedPorts } from '../../runtime/index.ts';
import type { Command } from '../command.ts';
import { containerRoot, keepPortsServed } from '../containers.ts';
import { parseCommandLine } from '../flags.ts';

const usage = `
Usage:  tbuild port CONTAINER [PRIVATE_PORT[/PROTO]]

List port mappings or a specific mapping for the container
`;

/** `tbuild port` (docker port): `80/tcp -> 127.0.0.1:8080`, or the host side of one port. */
export const portCommand: Command = {
  summary: 'List port mappings or a specific mapping for the container',
  async run(ctx) {
    const line = parseCommandLine(ctx, { name: 'port', usage, options: {}, args: { min: 1, max: 2 } });
    if (line === undefined) return 0;
    const [ref, spec] = line.positionals as [string, string | undefined];
    const root = containerRoot(ctx);
    const container = await inspectContainer(root, ref);
    if (container.state.Status === 'running')
      await keepPortsServed(ctx, container.record.Id, container.record.Name);
    const bound = publishedPorts(root, container.record.Id);
    const lines = spec === undefined ? portMappingLines(bound) : portAddressLines(bound, ref, spec);
    ctx.stdout.write(lines.map((l) => `${l}\n`).join(''));
    return 0;
  },
};
