import { ContainerError, inspectContainer, publishedPorts } from '../../runtime/index.ts';
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
    const [ref, wanted] = line.positionals as [string, string?];
    const root = containerRoot(ctx);
    const container = await inspectContainer(root, ref);
    if (container.state.Status === 'running')
      await keepPortsServed(ctx, container.record.Id, container.record.Name);
    const ports = publishedPorts(root, container.record.Id);
    if (wanted === undefined) {
      for (const p of ports)
        ctx.stdout.write(`${p.containerPort}/${p.protocol} -> ${p.hostIp}:${p.hostPort}\n`);
      return 0;
    }
    const [port, proto = 'tcp'] = wanted.split('/');
    const found = ports.filter((p) => String(p.containerPort) === port && p.protocol === proto);
    if (found.length === 0)
      throw new ContainerError(`No public port '${port}/${proto}' published for ${ref}`);
    for (const p of found) ctx.stdout.write(`${p.hostIp}:${p.hostPort}\n`);
    return 0;
  },
};
