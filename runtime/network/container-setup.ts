/**
 * A container's network at each start, from what `create` decided (container-config.ts): the
 * namespace it joins (its own, joined to its networks; another container's; or none, the host's),
 * and its /etc/hosts and /etc/resolv.conf as Docker writes them for that mode. The teardown is
 * attach.ts detachContainer, run when the container exits, is removed, or fails to start.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostsFileContent, resolvConfContent } from '../../executor/index.ts';
import { acquireLock } from '../../locks.ts';
import type { Container } from '../container.ts';
import { containerPaths, readContainer } from '../container-store.ts';
import { ContainerError, RunError } from '../errors.ts';
import {
  type AttachedNetwork,
  type Attachment,
  attachContainer,
  attachedContainerIds,
  type EndpointRequest,
  readAttachment,
  writeAttachment,
} from './attach.ts';
import type { EndpointsConfig } from './container-config.ts';
import { listNetworks, lookupNetwork } from './definitions.ts';
import { startForwarder } from './forwarder.ts';
import { listenOnHost } from './host-listen.ts';
import { giveHostLoopback, wantsHostGateway } from './host-loopback.ts';
import { endpointId } from './manage.ts';
import { hostPortRange, type PortBindings, type WantedPort } from './ports.ts';
import { runDir } from './run-dir.ts';
import { hostGatewayAddress, slirpDnsAddress } from './slirp.ts';

/** What the bundle needs from the network. */
export interface NetworkSetup {
  /** The namespace file to join; undefined = the host's network (`--network host`). */
  netnsPath?: string;
  hosts: string;
  resolvConf: string;
}

/** The networking part of a container record (fields added with networks; absent in older records). */
interface NetworkedRecord {
  Id: string;
  Name: string;
  Config: { Hostname: string };
  HostConfig: { NetworkMode: string; ExtraHosts?: string[]; PortBindings?: PortBindings };
  Networks?: EndpointsConfig;
}

/** Sets up the container's network for a start (caller holds the container's lock). */
export async function setUpContainerNetwork(
  root: string,
  container: Container,
  self: readonly string[],
): Promise<NetworkSetup> {
  const record = container.record as NetworkedRecord;
  const mode = record.HostConfig.NetworkMode;
  const hostname = record.Config.Hostname;
  const hostResolv = readText('/etc/resolv.conf');
  if (mode === 'host') {
    return {
      hosts: hostsFileContent(hostname) + extraHostLines(record, '127.0.0.1'),
      resolvConf: resolvConfContent(hostResolv, 'host'),
    };
  }
  if (mode.startsWith('container:')) return joinContainer(root, mode.slice('container:'.length));
  const endpoints = mode === 'none' ? [] : await endpointRequests(root, record);
  const attachment = await attachContainer(root, { id: record.Id, name: record.Name }, endpoints);
  const primary = attachment.networks[0];
  if (primary === undefined) {
    return {
      netnsPath: attachment.netns,
      hosts: hostsFileContent(hostname) + extraHostLines(record, hostGatewayAddress),
      resolvConf: resolvConfContent(hostResolv, 'none'),
    };
  }
  if (!primary.internal) {
    // An --internal network has no way out, host-gateway included (Docker's is a bridge address
    // an internal network cannot reach either).
    if (wantsHostGateway(record.HostConfig.ExtraHosts)) await giveHostLoopback(root, attachment);
    await publishPorts(root, attachment, record, self);
  }
  return {
    netnsPath: attachment.netns,
    hosts: `${dockerHostsDefaults}${extraHostLines(record, hostGatewayAddress)}${primary.ip}\t${hostname}\n`,
    resolvConf: containerResolvConf(primary, hostResolv),
  };
}

/**
 * Binds the container's published ports on the host and starts its forwarder into the primary
 * network, under one lock for the root so that two starts never both take a port.
 */
async function publishPorts(
  root: string,
  attachment: Attachment,
  record: NetworkedRecord,
  self: readonly string[],
): Promise<void> {
  const wanted: WantedPort[] = [];
  for (const [key, list] of Object.entries(record.HostConfig.PortBindings ?? {})) {
    const [port, protocol] = key.split('/');
    if (protocol !== 'tcp' && protocol !== 'udp')
      throw new RunError(`publishing ${protocol} ports is not supported by tbuild: ${key}`);
    for (const b of list) {
      wanted.push({
        containerPort: Number(port),
        protocol,
        hostIp: b.HostIp || '0.0.0.0',
        hostPorts: hostPortRange(b.HostPort),
      });
    }
  }
  if (wanted.length === 0) return;
  const primary = attachment.networks[0] as AttachedNetwork;
  const endpoint = `${record.Name} (${endpointId(record.Id, primary.id)})`;
  const lock = await acquireLock(join(runDir(root), 'locks', 'ports.lock'));
  try {
    const taken = attachedContainerIds(root)
      .filter((id) => id !== record.Id)
      .flatMap((id) => readAttachment(root, id)?.ports ?? []);
    const { listeners, bound } = await listenOnHost(wanted, taken, endpoint);
    attachment.forwarder = await startForwarder(
      self,
      primary.networkNetns,
      attachment.netns,
      listeners,
      bound,
      primary.ip,
    );
    attachment.ports = bound;
    writeAttachment(root, attachment);
  } finally {
    await lock.release();
  }
}

/** `--network container:ID`: that container's namespace and its hosts and resolv.conf files. */
async function joinContainer(root: string, id: string): Promise<NetworkSetup> {
  const target = readContainer(root, id);
  if (target === undefined) throw new RunError(`No such container: ${id}`);
  const running = ['running', 'paused', 'restarting'].includes(target.state.Status);
  if (!running) {
    throw new ContainerError(`cannot join network of a non running container: ${target.record.Id}`, {
      exitCode: 1,
    });
  }
  const bundle = containerPaths(target.dir, id).bundle;
  const files = {
    hosts: readText(join(bundle, 'hosts')) ?? '',
    resolvConf: readText(join(bundle, 'resolv.conf')) ?? '',
  };
  const attachment = readAttachment(root, id);
  return attachment === undefined ? files : { ...files, netnsPath: attachment.netns };
}

/** The container's endpoints, each with its network as it is now (looked up by id, then name). */
async function endpointRequests(root: string, record: NetworkedRecord): Promise<EndpointRequest[]> {
  const all = await listNetworks(root);
  const configured: EndpointsConfig = record.Networks ?? {
    [record.HostConfig.NetworkMode]: { NetworkID: '', Aliases: [] },
  };
  return Object.entries(configured).map(([name, endpoint]) => {
    const network = all.find((n) => n.Id === endpoint.NetworkID) ?? lookupNetwork(all, name);
    if (network === undefined || network.Driver !== 'bridge') {
      throw new RunError(`network ${name} not found`);
    }
    return {
      network,
      aliases: endpoint.Aliases,
      ...(endpoint.IPAMConfig?.IPv4Address ? { ip: endpoint.IPAMConfig.IPv4Address } : {}),
    };
  });
}

/** The start of Docker's /etc/hosts (libnetwork etchosts defaultContent). */
const dockerHostsDefaults = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix',
  'ff02::1\tip6-allnodes',
  'ff02::2\tip6-allrouters',
  '',
].join('\n');

/** `--add-host` lines, `host-gateway` replaced by the address that reaches the host's loopback. */
function extraHostLines(record: NetworkedRecord, hostGateway: string): string {
  return (record.HostConfig.ExtraHosts ?? [])
    .map((entry) => {
      const colon = entry.indexOf(':');
      const address = entry.slice(colon + 1);
      return `${address === 'host-gateway' ? hostGateway : address}\t${entry.slice(0, colon)}\n`;
    })
    .join('');
}

/**
 * A user-defined network's resolver is its aardvark-dns (names of the network's containers, the
 * rest forwarded); the default bridge has none, as Docker's, and gets slirp4netns's forwarder to
 * the host's resolvers (it works where the host's own is a loopback stub). The host's `search`
 * and `options` lines are kept, as Docker keeps them.
 */
function containerResolvConf(primary: AttachedNetwork, hostText: string | undefined): string {
  const kept = (hostText ?? '').split('\n').filter((line) => /^\s*(search|options)\s/.test(line));
  const servers =
    primary.dnsServers.length > 0 ? primary.dnsServers : primary.internal ? [] : [slirpDnsAddress];
  return [...kept, ...servers.map((s) => `nameserver ${s}`), ''].join('\n');
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
