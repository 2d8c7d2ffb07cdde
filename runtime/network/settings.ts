/**
 * `inspect`'s NetworkSettings of a container, in Docker's fields (moby api/types
 * NetworkSettings): the configured networks with their live address, MAC and gateway while the
 * container runs (empty when it does not, as Docker clears them), and its published ports.
 * The top-level IPAddress, Gateway and MacAddress are the default bridge's, as Docker fills them.
 */
import { dirname } from 'node:path';
import type { Container } from '../container.ts';
import { readAttachment } from './attach.ts';
import { endpointId } from './manage.ts';

export function networkSettingsDocument(container: Container): Record<string, unknown> {
  const { record } = container;
  // <root>/containers/<id>: the root is two levels up.
  const root = dirname(dirname(container.dir));
  const attachment = readAttachment(root, record.Id);
  const ports: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of attachment?.ports ?? []) {
    const key = `${p.containerPort}/${p.protocol}`;
    ports[key] = [...(ports[key] ?? []), { HostIp: p.hostIp, HostPort: String(p.hostPort) }];
  }
  const networks: Record<string, unknown> = {};
  for (const [name, endpoint] of Object.entries(record.Networks ?? {})) {
    const live = attachment?.networks.find((n) => n.id === endpoint.NetworkID || n.name === name);
    networks[name] = {
      IPAMConfig: endpoint.IPAMConfig ?? null,
      Links: null,
      Aliases: endpoint.Aliases.length > 0 ? endpoint.Aliases : null,
      NetworkID: endpoint.NetworkID,
      EndpointID: live ? endpointId(record.Id, live.id) : '',
      Gateway: live?.gateway ?? '',
      IPAddress: live?.ip ?? '',
      IPPrefixLen: live?.prefixLen ?? 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: live?.macAddress ?? '',
      DriverOpts: null,
    };
  }
  const bridge = attachment?.networks.find((n) => n.name === 'bridge');
  return {
    Bridge: '',
    SandboxID: attachment ? record.Id : '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: ports,
    SandboxKey: attachment?.netns ?? '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: bridge ? endpointId(record.Id, bridge.id) : '',
    Gateway: bridge?.gateway ?? '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: bridge?.ip ?? '',
    IPPrefixLen: bridge?.prefixLen ?? 0,
    IPv6Gateway: '',
    MacAddress: bridge?.macAddress ?? '',
    Networks: networks,
  };
}
