/**
 * Network definitions: what `network create` decided, kept under the root so that they survive
 * reboots (the running side of a network lives in the run directory, run-dir.ts). One JSON file
 * per network, `<root>/networks/<id>.json`, in the fields of Docker's `network inspect` (moby
 * api/types NetworkResource) minus `Containers`, which is computed from the running containers.
 *
 * Docker's three predefined networks exist in every root: `bridge` (the default, 172.17.0.0/16,
 * no DNS by name, as Docker's default bridge), `host` and `none`. They are written on first use,
 * so their ids stay the same from then on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock } from '../../locks.ts';
import { nowRfc3339, writeJsonAtomic } from '../container-store.ts';
import { NetworkError } from './errors.ts';
import { slirpSubnet } from './slirp.ts';
import {
  defaultGateway,
  defaultPool,
  formatAddress,
  formatSubnet,
  parseAddress,
  parseSubnet,
  type Subnet,
  subnetContains,
  subnetsOverlap,
} from './subnets.ts';

export type NetworkDriver = 'bridge' | 'host' | 'null';

/** One network, as Docker's `network inspect` shows it (without `Containers`). */
export interface NetworkDefinition {
  Name: string;
  /** 64 hex digits. */
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: NetworkDriver;
  EnableIPv6: boolean;
  IPAM: {
    Driver: 'default';
    Options: Record<string, string> | null;
    Config: { Subnet: string; Gateway: string }[];
  };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

/** libnetwork config.go: a letter or digit, then letters, digits, `_`, `.` or `-`. */
const networkNamePattern = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const predefinedNetworks = ['bridge', 'host', 'none'] as const;

export function isPredefined(name: string): boolean {
  return (predefinedNetworks as readonly string[]).includes(name);
}

/** The default bridge's subnet (Docker's docker0). */
const defaultBridgeSubnet = '172.17.0.0/16';

function networksDir(root: string): string {
  return join(root, 'networks');
}

function definitionPath(root: string, id: string): string {
  return join(networksDir(root), `${id}.json`);
}

/** The lock that makes name and subnet choice atomic across processes. */
function lockDefinitions(root: string) {
  mkdirSync(networksDir(root), { recursive: true, mode: 0o700 });
  return acquireLock(join(networksDir(root), 'lock'));
}

function readDefinitions(root: string): NetworkDefinition[] {
  let names: string[];
  try {
    names = readdirSync(networksDir(root));
  } catch {
    return [];
  }
  const out: NetworkDefinition[] = [];
  for (const name of names) {
    if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
    try {
      out.push(JSON.parse(readFileSync(join(networksDir(root), name), 'utf8')) as NetworkDefinition);
    } catch {
      // Removed meanwhile; a half-written one cannot exist (written whole and renamed).
    }
  }
  return out;
}

/** Every network, the predefined ones included, sorted by name (Docker's `network ls` order). */
export async function listNetworks(root: string): Promise<NetworkDefinition[]> {
  let all = readDefinitions(root);
  if (predefinedNetworks.some((name) => !all.some((n) => n.Name === name))) {
    const lock = await lockDefinitions(root);
    try {
      all = readDefinitions(root);
      for (const name of predefinedNetworks) {
        if (all.some((n) => n.Name === name)) continue;
        const made = predefined(name);
        writeJsonAtomic(definitionPath(root, made.Id), made);
        all.push(made);
      }
    } finally {
      await lock.release();
    }
  }
  return all.sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0));
}

/**
 * Docker's lookup (daemon/network.go FindNetwork): a full id, an exact name, then a unique id
 * prefix. Throws Docker's "network NAME not found".
 */
export async function findNetwork(root: string, ref: string): Promise<NetworkDefinition> {
  const found = lookupNetwork(await listNetworks(root), ref);
  if (found === undefined) throw new NetworkError(`network ${ref} not found`);
  return found;
}

export function lookupNetwork(all: NetworkDefinition[], ref: string): NetworkDefinition | undefined {
  const byId = all.find((n) => n.Id === ref);
  if (byId) return byId;
  const byName = all.find((n) => n.Name === ref);
  if (byName) return byName;
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = all.filter((n) => n.Id.startsWith(ref));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1)
      throw new NetworkError(
        `network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`,
      );
  }
  return undefined;
}

export interface NetworkCreateRequest {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  internal?: boolean;
  labels?: Record<string, string>;
}

/** `network create`: a new bridge network with its own subnet (given, or the pool's next free one). */
export async function createNetworkDefinition(
  root: string,
  request: NetworkCreateRequest,
): Promise<NetworkDefinition> {
  const driver = request.driver ?? 'bridge';
  if (driver !== 'bridge') {
    throw new NetworkError(`plugin "${driver}" not found`, { hint: 'tbuild has the bridge driver only' });
  }
  if (!networkNamePattern.test(request.name)) {
    throw new NetworkError(
      `invalid network name "${request.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`,
    );
  }
  await listNetworks(root); // the predefined ones first: their subnet is taken
  const lock = await lockDefinitions(root);
  try {
    const existing = readDefinitions(root);
    if (existing.some((n) => n.Name === request.name))
      throw new NetworkError(`network with name ${request.name} already exists`);
    const subnet = pickSubnet(existing, request.subnet);
    const gateway = pickGateway(subnet, request.gateway);
    const network: NetworkDefinition = {
      ...base(request.name, 'bridge'),
      IPAM: {
        Driver: 'default',
        Options: {},
        Config: [{ Subnet: formatSubnet(subnet), Gateway: formatAddress(gateway) }],
      },
      Internal: request.internal === true,
      Labels: request.labels ?? {},
    };
    writeJsonAtomic(definitionPath(root, network.Id), network);
    return network;
  } finally {
    await lock.release();
  }
}

/** Deletes a definition (the caller has checked that nothing runs on it). */
export function removeNetworkDefinition(root: string, id: string): void {
  rmSync(definitionPath(root, id), { force: true });
}

/** The network's one IPv4 subnet and gateway; undefined for host and none. */
export function networkSubnet(network: NetworkDefinition): { subnet: Subnet; gateway: number } | undefined {
  const config = network.IPAM.Config[0];
  if (config === undefined) return undefined;
  const subnet = parseSubnet(config.Subnet);
  return { subnet, gateway: parseAddress(config.Gateway) ?? defaultGateway(subnet) };
}

function pickSubnet(existing: NetworkDefinition[], wanted: string | undefined): Subnet {
  const taken = existing.flatMap((n) => n.IPAM.Config.map((c) => parseSubnet(c.Subnet)));
  taken.push(parseSubnet(slirpSubnet));
  if (wanted !== undefined) {
    const subnet = parseSubnet(wanted);
    if (taken.some((t) => subnetsOverlap(t, subnet)))
      throw new NetworkError('Pool overlaps with other one on this address space');
    return subnet;
  }
  for (const candidate of defaultPool()) {
    if (!taken.some((t) => subnetsOverlap(t, candidate))) return candidate;
  }
  throw new NetworkError(
    'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network',
  );
}

function pickGateway(subnet: Subnet, wanted: string | undefined): number {
  if (wanted === undefined) return defaultGateway(subnet);
  const gateway = parseAddress(wanted);
  if (gateway === undefined) throw new NetworkError(`invalid gateway address ${wanted}`);
  if (!subnetContains(subnet, gateway)) throw new NetworkError(`no matching subnet for gateway ${wanted}`);
  return gateway;
}

function base(name: string, driver: NetworkDriver): NetworkDefinition {
  return {
    Name: name,
    Id: randomBytes(32).toString('hex'),
    Created: nowRfc3339(),
    Scope: 'local',
    Driver: driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: [] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Options: {},
    Labels: {},
  };
}

/** Docker's predefined networks (moby daemon/daemon_unix.go initBridgeDriver and friends). */
function predefined(name: (typeof predefinedNetworks)[number]): NetworkDefinition {
  if (name === 'host') return base('host', 'host');
  if (name === 'none') return base('none', 'null');
  const subnet = parseSubnet(defaultBridgeSubnet);
  return {
    ...base('bridge', 'bridge'),
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: [{ Subnet: formatSubnet(subnet), Gateway: formatAddress(defaultGateway(subnet)) }],
    },
    Options: {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': 'tbuild0',
      'com.docker.network.driver.mtu': '1500',
    },
  };
}
