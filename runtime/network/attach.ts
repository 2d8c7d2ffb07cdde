/**
 * A container's place on its networks while it runs: its own network namespace (a file in the
 * run directory, given to runc by path), an address and a veth pair on each network (netavark, in
 * the network's namespace), and the record of all that, written before each step so that a
 * command killed half-way leaves a record the next one tears down (sweep.ts).
 *
 *   <run dir>/attachments/<container id>.json   the Attachment below
 *   <run dir>/netns/<container id>              the container's namespace
 *
 * Attach runs under the container's lock (a start); detach under it too (the exit, rm, a failed
 * start) or, for the sweep, with it taken without waiting.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../container-store.ts';
import { listNetworks, type NetworkDefinition, networkSubnet } from './definitions.ts';
import { type HelperProcess, stopHelper, stopStrayHelpers } from './helper-process.ts';
import {
  closeNetworkRuntimeIfUnused,
  findNetworkRuntime,
  openNetworkRuntime,
  saveNetworkRuntime,
  withNetworkLock,
} from './infra.ts';
import { allocateAddress, releaseAddresses } from './ipam.ts';
import { isolateNetwork } from './isolation.ts';
import { createNamespace, isNamespaceMounted, removeNamespace } from './namespace.ts';
import { type NetavarkNetwork, type NetavarkRequest, netavarkSetup, netavarkTeardown } from './netavark.ts';
import { attachmentsDir, containerNetnsPath, ensureRunDir, hostLoopbackLogPath } from './run-dir.ts';
import { formatAddress } from './subnets.ts';

/** One network the container is on, as set up. */
export interface AttachedNetwork extends NetavarkNetwork {
  prefixLen: number;
  macAddress: string;
  dnsServers: string[];
  /** The network's namespace file at the time (teardown runs there). */
  networkNetns: string;
  dnsDir: string;
}

/** A published port as bound on the host. */
export interface PublishedPort {
  containerPort: number;
  protocol: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
}

/** `attachments/<id>.json`. */
export interface Attachment {
  containerId: string;
  containerName: string;
  /** The container's namespace file. */
  netns: string;
  /** In connection order; the first one is the primary (default route, published ports). */
  networks: AttachedNetwork[];
  ports: PublishedPort[];
  /** The port forwarder (forwarder.ts), while ports are published. */
  forwarder?: HelperProcess;
  /** The slirp4netns that gives this container the host's loopback (host-loopback.ts), if asked for. */
  hostLoopback?: HelperProcess;
}

/** What the container asks of one network. */
export interface EndpointRequest {
  network: NetworkDefinition;
  /** Names besides the container's own name and short id (`--network-alias`). */
  aliases: string[];
  /** `--ip`: a fixed address. */
  ip?: string;
}

function attachmentPath(root: string, containerId: string): string {
  return join(attachmentsDir(root), `${containerId}.json`);
}

export function readAttachment(root: string, containerId: string): Attachment | undefined {
  try {
    return JSON.parse(readFileSync(attachmentPath(root, containerId), 'utf8')) as Attachment;
  } catch {
    return undefined;
  }
}

export function writeAttachment(root: string, attachment: Attachment): void {
  writeJsonAtomic(attachmentPath(root, attachment.containerId), attachment);
}

/** Every container id with an attachment record. */
export function attachedContainerIds(root: string): string[] {
  try {
    return readdirSync(attachmentsDir(root))
      .filter((name) => /^[0-9a-f]{64}\.json$/.test(name))
      .map((name) => name.slice(0, 64));
  } catch {
    return [];
  }
}

/**
 * Makes the container's namespace and joins it to each network in order. On failure everything
 * done so far is undone and the error thrown.
 */
export async function attachContainer(
  root: string,
  container: { id: string; name: string },
  endpoints: EndpointRequest[],
): Promise<Attachment> {
  ensureRunDir(root);
  await detachContainer(root, container.id); // what a killed earlier start left
  const attachment: Attachment = {
    containerId: container.id,
    containerName: container.name,
    netns: containerNetnsPath(root, container.id),
    networks: [],
    ports: [],
  };
  writeAttachment(root, attachment);
  try {
    await createNamespace(attachment.netns);
    for (const endpoint of endpoints) await joinNetwork(root, attachment, endpoint);
  } catch (error) {
    await detachContainer(root, container.id).catch(() => undefined);
    throw error;
  }
  return attachment;
}

/** Connects a container that already has a namespace (a start, or `network connect` while it runs). */
export async function joinNetwork(
  root: string,
  attachment: Attachment,
  endpoint: EndpointRequest,
): Promise<void> {
  const { network } = endpoint;
  const addressing = networkSubnet(network);
  if (addressing === undefined) throw new Error(`network ${network.Name} has no subnet`);
  await withNetworkLock(root, network.Id, async () => {
    const runtime = await openNetworkRuntime(root, network);
    await isolateNetwork(runtime.netns, network, await listNetworks(root));
    const ip = allocateAddress(
      runtime.state.allocations,
      addressing.subnet,
      addressing.gateway,
      attachment.containerId,
      endpoint.ip,
    );
    saveNetworkRuntime(runtime);
    const entry: AttachedNetwork = {
      name: network.Name,
      id: network.Id,
      bridge: bridgeName(network),
      subnet: network.IPAM.Config[0]?.Subnet ?? '',
      gateway: formatAddress(addressing.gateway),
      internal: network.Internal,
      // Docker's default bridge has no DNS by name; user-defined networks have.
      dns: network.Name !== 'bridge',
      ip,
      aliases: uniqueNames([
        attachment.containerName,
        ...endpoint.aliases,
        attachment.containerId.slice(0, 12),
      ]),
      interfaceName: `eth${attachment.networks.length}`,
      prefixLen: addressing.subnet.prefix,
      macAddress: '',
      dnsServers: [],
      networkNetns: runtime.netns,
      dnsDir: runtime.dnsDir,
    };
    // Recorded before netavark runs: a kill in between leaves a record to tear down.
    attachment.networks.push(entry);
    writeAttachment(root, attachment);
    const result = await netavarkSetup(netavarkRequest(attachment, entry));
    entry.macAddress = result.macAddress;
    entry.dnsServers = result.dnsServers;
    writeAttachment(root, attachment);
  });
}

/** Takes the container off one network (`network disconnect`, and each network in a detach). */
export async function leaveNetwork(root: string, attachment: Attachment, networkId: string): Promise<void> {
  const entry = attachment.networks.find((n) => n.id === networkId);
  if (entry === undefined) return;
  await withNetworkLock(root, networkId, async () => {
    const runtime = findNetworkRuntime(root, networkId);
    if (runtime !== undefined) {
      if (isNamespaceMounted(attachment.netns) && runtime.netns === entry.networkNetns) {
        // A half-made setup fails to tear down: what is there goes with the namespace.
        await netavarkTeardown(netavarkRequest(attachment, entry)).catch(() => undefined);
      }
      releaseAddresses(runtime.state.allocations, attachment.containerId);
      saveNetworkRuntime(runtime);
      await closeNetworkRuntimeIfUnused(root, runtime);
    }
  });
  attachment.networks = attachment.networks.filter((n) => n.id !== networkId);
  writeAttachment(root, attachment);
}

/**
 * Undoes an attachment whatever state it is in: the forwarder, the host-loopback slirp4netns,
 * each network (veth, DNS entry, address; the network's runtime when it was the last container),
 * the namespace, the record. Idempotent; a container without a record only has a stray namespace
 * file removed (and a helper still naming it stopped).
 */
export async function detachContainer(root: string, containerId: string): Promise<void> {
  const attachment = readAttachment(root, containerId);
  const netns = containerNetnsPath(root, containerId);
  if (attachment !== undefined) {
    await stopHelper(attachment.forwarder);
    await stopHelper(attachment.hostLoopback);
    for (const entry of [...attachment.networks].reverse()) await leaveNetwork(root, attachment, entry.id);
  }
  await stopStrayHelpers([netns]);
  await removeNamespace(netns);
  rmSync(hostLoopbackLogPath(root, containerId), { force: true });
  rmSync(attachmentPath(root, containerId), { force: true });
}

function netavarkRequest(attachment: Attachment, entry: AttachedNetwork): NetavarkRequest {
  return {
    networkNetns: entry.networkNetns,
    configDir: entry.dnsDir,
    containerNetns: attachment.netns,
    containerId: attachment.containerId,
    containerName: attachment.containerName,
    network: entry,
  };
}

/** Inside the network's namespace, so any name works; Docker's `br-<id>` tells them apart in dumps. */
function bridgeName(network: NetworkDefinition): string {
  return network.Name === 'bridge' ? 'tbuild0' : `br-${network.Id.slice(0, 12)}`;
}

function uniqueNames(names: string[]): string[] {
  return [...new Set(names.filter((n) => n !== ''))];
}
