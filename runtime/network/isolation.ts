/**
 * Isolation between networks. Each network has its own namespace, so there is no route from one
 * bridge to another; but its default route leads out through slirp4netns, and a packet for another
 * network's subnet would leave the machine that way, to whatever the host's own routing finds at
 * that address. Docker drops such packets (DOCKER-ISOLATION); here each network's namespace has an
 * `unreachable` route for every other network's subnet, so the sender gets "network unreachable"
 * at once and nothing leaves. The routes are (re)written when a container joins a network and, for
 * every running network, when a network is created.
 */
import { listNetworks, type NetworkDefinition } from './definitions.ts';
import { findNetworkRuntime } from './infra.ts';
import { inNamespace } from './namespace.ts';
import { mustRunTool, networkTool } from './tools.ts';

/** Writes the unreachable routes into one running network's namespace. */
export async function isolateNetwork(
  netns: string,
  self: NetworkDefinition,
  all: NetworkDefinition[],
): Promise<void> {
  const own = new Set(self.IPAM.Config.map((c) => c.Subnet));
  const others = [...new Set(all.flatMap((n) => n.IPAM.Config.map((c) => c.Subnet)))].filter(
    (s) => !own.has(s),
  );
  if (others.length === 0) return;
  const batch = others.map((subnet) => `route replace unreachable ${subnet}\n`).join('');
  await mustRunTool('could not isolate a network', inNamespace(netns, [networkTool('ip'), '-batch', '-']), {
    stdin: batch,
  });
}

/** After `network create`: every running network learns the new subnet. */
export async function isolateRunningNetworks(root: string): Promise<void> {
  const all = await listNetworks(root);
  for (const network of all) {
    const runtime = findNetworkRuntime(root, network.Id);
    if (runtime !== undefined) await isolateNetwork(runtime.netns, network, all);
  }
}
