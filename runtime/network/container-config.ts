/**
 * What `create` decides about a container's networking, in Docker's terms: `HostConfig.NetworkMode`
 * (`bridge`, `host`, `none`, `container:<id>`, or a network's name), `HostConfig.ExtraHosts`
 * (`--add-host`), and one endpoint per network with its aliases and fixed address (Docker's
 * `NetworkSettings.Networks`, kept in the record so that `network connect` / `disconnect` can change
 * it and `inspect` can show it). Checked as Docker's daemon checks them at create.
 */
import { isIP } from 'node:net';
import { findContainer } from '../container-store.ts';
import { RunError } from '../errors.ts';
import { findNetwork } from './definitions.ts';
import { NetworkError } from './errors.ts';
import { type PortBindings, parseExpose, parsePublish, publishAll } from './ports.ts';

/** One network a container is configured to join (Docker's EndpointSettings, the configured part). */
export interface EndpointConfig {
  NetworkID: string;
  /** `--network-alias`; the container's name and short id are added when it joins. */
  Aliases: string[];
  /** `--ip`. */
  IPAMConfig?: { IPv4Address: string };
}

/** Network name → endpoint. */
export type EndpointsConfig = Record<string, EndpointConfig>;

export interface NetworkingRequest {
  /** `--network`; Docker's default `bridge` when absent. */
  network?: string;
  aliases?: string[];
  ip?: string;
  /** `--add-host NAME:IP` (IP may be `host-gateway`). */
  extraHosts?: string[];
  /** `-p` values. */
  publish?: string[];
  /** `-P`. */
  publishAll?: boolean;
  /** `--expose` values. */
  expose?: string[];
}

export interface ContainerNetworking {
  NetworkMode: string;
  ExtraHosts: string[];
  Networks: EndpointsConfig;
  PortBindings: PortBindings;
}

/** Resolves and checks `--network`, `--network-alias`, `--ip` and `--add-host` for a new container. */
export async function resolveNetworking(
  root: string,
  request: NetworkingRequest,
  imageExposed: string[],
): Promise<ContainerNetworking> {
  const portBindings: PortBindings = {};
  for (const spec of request.publish ?? []) parsePublish(spec, portBindings);
  const exposed = (request.expose ?? []).flatMap(parseExpose);
  if (request.publishAll) publishAll([...imageExposed, ...exposed], portBindings);
  const extraHosts = (request.extraHosts ?? []).map(checkExtraHost);
  const aliases = request.aliases ?? [];
  const mode = request.network ?? 'bridge';
  const userDefined = !['bridge', 'default', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
  if (aliases.length > 0 && !userDefined) {
    throw new RunError('network-scoped alias is supported only for containers in user defined networks');
  }
  if (request.ip !== undefined && !userDefined) {
    throw new RunError('user specified IP address is supported on user defined networks only');
  }
  if (request.ip !== undefined && isIP(request.ip) !== 4) {
    throw new RunError(`invalid IPv4 address: ${request.ip}`);
  }
  if (mode.startsWith('container:')) {
    const target = await findContainer(root, mode.slice('container:'.length)).catch((error: Error) => {
      throw new RunError(error.message);
    });
    if (extraHosts.length > 0)
      throw new RunError('conflicting options: custom host-to-IP mapping and the network mode');
    return { NetworkMode: `container:${target.record.Id}`, ExtraHosts: [], Networks: {}, PortBindings: {} };
  }
  // Docker discards published ports with the host network; with none they lead nowhere.
  if (mode === 'host' || mode === 'none')
    return { NetworkMode: mode, ExtraHosts: extraHosts, Networks: {}, PortBindings: {} };
  const network = await findNetwork(root, mode === 'default' ? 'bridge' : mode).catch((error: unknown) => {
    throw error instanceof NetworkError ? new RunError(error.message) : error;
  });
  if (network.Driver !== 'bridge') {
    // A network named by id or prefix that is host or none: the mode is its name.
    return { NetworkMode: network.Name, ExtraHosts: extraHosts, Networks: {}, PortBindings: {} };
  }
  return {
    NetworkMode: network.Name,
    ExtraHosts: extraHosts,
    PortBindings: portBindings,
    Networks: {
      [network.Name]: {
        NetworkID: network.Id,
        Aliases: aliases,
        ...(request.ip === undefined ? {} : { IPAMConfig: { IPv4Address: request.ip } }),
      },
    },
  };
}

/** Docker's `--add-host` check (opts.ValidateExtraHost): `NAME:IP`, IP an address or `host-gateway`. */
export function checkExtraHost(value: string): string {
  const colon = value.indexOf(':');
  const name = value.slice(0, colon);
  const address = value.slice(colon + 1);
  if (colon <= 0 || (address !== 'host-gateway' && isIP(address) === 0)) {
    throw new RunError(
      `invalid argument "${value}" for "--add-host" flag: bad format for add-host: "${value}"`,
    );
  }
  return `${name}:${address}`;
}
