/**
 * The `network` commands' work, with Docker's rules and messages (moby daemon/network.go,
 * api/server/router/network): `inspect` with the containers on a network, `rm` and `prune` of
 * networks without active endpoints, `connect` and `disconnect` of a container, live when it runs.
 * A network's active endpoints are its running containers (a stopped one keeps only its
 * configuration, as Docker's does, and fails to start if its network is gone).
 */
import type { Container } from '../container.ts';
import { containerPaths, findContainer, withContainerLock, writeJsonAtomic } from '../container-store.ts';
import { ContainerError } from '../errors.ts';
import { isActive } from '../state-sync.ts';
import {
  type Attachment,
  attachedContainerIds,
  joinNetwork,
  leaveNetwork,
  readAttachment,
} from './attach.ts';
import type { EndpointsConfig } from './container-config.ts';
import {
  createNetworkDefinition,
  findNetwork,
  isPredefined,
  listNetworks,
  type NetworkCreateRequest,
  type NetworkDefinition,
  removeNetworkDefinition,
} from './definitions.ts';
import { NetworkError } from './errors.ts';
import { clearRuntime, withNetworkLock } from './infra.ts';
import { isolateRunningNetworks } from './isolation.ts';
import { sweepNetworkLeftovers } from './sweep.ts';

/** The running containers on a network, with their attachment. */
function endpointsOn(root: string, networkId: string): Attachment[] {
  return attachedContainerIds(root)
    .map((id) => readAttachment(root, id))
    .filter((a): a is Attachment => a?.networks.some((n) => n.id === networkId) === true);
}

/** Docker's `network inspect` document: the definition and its running containers. */
export async function networkDocument(root: string, ref: string): Promise<Record<string, unknown>> {
  await sweepNetworkLeftovers(root);
  const network = await findNetwork(root, ref);
  const containers: Record<string, unknown> = {};
  for (const attachment of endpointsOn(root, network.Id)) {
    const entry = attachment.networks.find((n) => n.id === network.Id);
    if (entry === undefined) continue;
    containers[attachment.containerId] = {
      Name: attachment.containerName,
      EndpointID: endpointId(attachment.containerId, network.Id),
      MacAddress: entry.macAddress,
      IPv4Address: `${entry.ip}/${entry.prefixLen}`,
      IPv6Address: '',
    };
  }
  const { Labels, Options, ...rest } = network;
  return { ...rest, Containers: containers, Options, Labels };
}

/** A stable endpoint id (Docker's is random per connect; ours names the pair). */
export function endpointId(containerId: string, networkId: string): string {
  return `${containerId.slice(0, 32)}${networkId.slice(0, 32)}`;
}

/** `network create`: the definition, and its subnet made unreachable from every running network. */
export async function createNetwork(root: string, request: NetworkCreateRequest): Promise<NetworkDefinition> {
  const network = await createNetworkDefinition(root, request);
  await isolateRunningNetworks(root);
  return network;
}

/** `network rm NAME`: refused for a predefined network or one with running containers. */
export async function removeNetwork(root: string, ref: string): Promise<void> {
  await sweepNetworkLeftovers(root);
  const network = await findNetwork(root, ref).catch(() => {
    throw new NetworkError(`No such network: ${ref}`);
  });
  if (isPredefined(network.Name)) {
    throw new NetworkError(`${network.Name} is a pre-defined network and cannot be removed`, { exitCode: 1 });
  }
  await withNetworkLock(root, network.Id, async () => {
    if (endpointsOn(root, network.Id).length > 0) {
      throw new NetworkError(
        `error while removing network: network ${network.Name} id ${network.Id} has active endpoints`,
      );
    }
    // A runtime with no container on it (one a killed command left): it goes first, so that a
    // kill in between leaves a defined network to remove again, never a runtime nobody names.
    await clearRuntime(root, network.Id);
    removeNetworkDefinition(root, network.Id);
  });
}

/** `network prune`: every user-defined network without running containers; their names. */
export async function pruneNetworks(root: string): Promise<string[]> {
  await sweepNetworkLeftovers(root);
  const removed: string[] = [];
  for (const network of await listNetworks(root)) {
    if (isPredefined(network.Name)) continue;
    await withNetworkLock(root, network.Id, async () => {
      if (endpointsOn(root, network.Id).length > 0) return;
      await clearRuntime(root, network.Id);
      removeNetworkDefinition(root, network.Id);
      removed.push(network.Name);
    });
  }
  return removed;
}

/** The modes that share a namespace that is not the container's own. */
function sharesNamespace(mode: string): boolean {
  return mode === 'host' || mode.startsWith('container:');
}

/**
 * Runs `change` on a container's configured networks under its lock, then writes them back into
 * its record (as rename rewrites it): `network connect` and `disconnect`.
 */
async function changeEndpoints(
  root: string,
  networkRef: string,
  containerRef: string,
  change: (c: Container, network: NetworkDefinition, networks: EndpointsConfig) => Promise<void>,
): Promise<void> {
  await sweepNetworkLeftovers(root);
  const network = await findNetwork(root, networkRef);
  const found = await findContainer(root, containerRef);
  await withContainerLock(root, found.record.Id, async (c) => {
    const networks: EndpointsConfig = { ...(c.record.Networks ?? {}) };
    await change(c, network, networks);
    writeJsonAtomic(containerPaths(c.dir, c.record.Id).record, { ...c.record, Networks: networks });
  });
}

const hostNetworkMessage = 'container cannot be disconnected from host network or connected to host network';

/** `network connect [--alias] [--ip] NETWORK CONTAINER`: into the record, and live when it runs. */
export async function connectContainer(
  root: string,
  networkRef: string,
  containerRef: string,
  options: { aliases: string[]; ip?: string },
): Promise<void> {
  await changeEndpoints(root, networkRef, containerRef, async (c, network, networks) => {
    const { record } = c;
    if (network.Driver !== 'bridge' || sharesNamespace(record.HostConfig.NetworkMode)) {
      throw new NetworkError(
        network.Driver === 'host'
          ? hostNetworkMessage
          : 'container sharing network namespace with another container or host cannot be connected to any other network',
      );
    }
    if (networks[network.Name] !== undefined) {
      throw new NetworkError(`endpoint with name ${record.Name} already exists in network ${network.Name}`);
    }
    if (record.HostConfig.NetworkMode === 'none') {
      throw new NetworkError(
        'container cannot be connected to multiple networks with one of the networks in private (none) mode',
      );
    }
    const ip = options.ip === undefined ? {} : { ip: options.ip };
    const attachment = readAttachment(root, record.Id);
    if (isActive(c) && attachment !== undefined) {
      await joinNetwork(root, attachment, { network, aliases: options.aliases, ...ip });
    }
    networks[network.Name] = {
      NetworkID: network.Id,
      Aliases: options.aliases,
      ...(options.ip === undefined ? {} : { IPAMConfig: { IPv4Address: options.ip } }),
    };
  });
}

/** `network disconnect NETWORK CONTAINER`. */
export async function disconnectContainer(
  root: string,
  networkRef: string,
  containerRef: string,
): Promise<void> {
  await changeEndpoints(root, networkRef, containerRef, async (c, network, networks) => {
    if (network.Driver === 'host') throw new NetworkError(hostNetworkMessage);
    if (networks[network.Name] === undefined) {
      throw new ContainerError(`container ${c.record.Id} is not connected to network ${network.Name}`);
    }
    const attachment = readAttachment(root, c.record.Id);
    if (attachment !== undefined) await leaveNetwork(root, attachment, network.Id);
    delete networks[network.Name];
  });
}
