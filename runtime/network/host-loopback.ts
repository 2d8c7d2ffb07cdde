/**
 * `--add-host NAME:host-gateway` on a bridge network: the host's 127.0.0.1 services reachable from
 * this container, and from no other (the networks' own slirp4netns run with
 * --disable-host-loopback, slirp.ts). As rootless Podman and Docker Desktop offer it, but only to
 * the containers that asked, since a network's way out is shared by all of its containers.
 *
 * How: a second slirp4netns, in the container's own namespace, that may reach the host's loopback
 * and nothing else:
 *  - its tap device (`hostgw0`) gets a /32 address and one route, to 10.0.2.2/32 (the address
 *    /etc/hosts gives host-gateway); every other destination still goes out through the network;
 *  - it binds every outgoing socket to 127.0.0.1 (--outbound-addr), from where the kernel routes
 *    to the host's own addresses only, so even a container that rewrites its routes (with
 *    CAP_NET_ADMIN) gets no second way out through it; and it forwards no DNS (--disable-dns).
 * Why not a port forwarder: host-gateway means every port of the host, which a forwarder would
 * have to know in advance; slirp4netns maps 10.0.2.2:ANY to 127.0.0.1:ANY by itself, TCP and UDP,
 * and is already there for the networks. The cost is one slirp4netns (~2 MiB) per such container.
 *
 * It lives as long as the container's attachment: its pid is recorded there right after it
 * started and detachContainer (stop, rm -f, the exit, the sweep after a killed monitor) stops it;
 * one started by a command killed before it was recorded names the container's namespace file in
 * its argv and is found by that (stopStrayHelpers).
 */
import { type Attachment, writeAttachment } from './attach.ts';
import { inNamespace } from './namespace.ts';
import { hostLoopbackLogPath } from './run-dir.ts';
import { hostGatewayAddress, slirpMtu, spawnSlirp } from './slirp.ts';
import { mustRunTool, networkTool } from './tools.ts';

/** The tap device in the container's namespace. */
export const hostLoopbackDevice = 'hostgw0';

/** The container's end of it: slirp4netns's usual guest address, alone in its own /32. */
const guestAddress = '10.0.2.100';

/** True when the container asked for the host's loopback (`--add-host NAME:host-gateway`). */
export function wantsHostGateway(extraHosts: readonly string[] | undefined): boolean {
  return (extraHosts ?? []).some((entry) => entry.slice(entry.indexOf(':') + 1) === 'host-gateway');
}

/** Starts the container's host-loopback slirp4netns and routes 10.0.2.2/32 to it; recorded in the attachment. */
export async function giveHostLoopback(root: string, attachment: Attachment): Promise<void> {
  attachment.hostLoopback = await spawnSlirp(
    attachment.netns,
    hostLoopbackDevice,
    ['--disable-dns', '--outbound-addr=127.0.0.1'],
    hostLoopbackLogPath(root, attachment.containerId),
  );
  writeAttachment(root, attachment);
  const dev = hostLoopbackDevice;
  await mustRunTool(
    'could not route host-gateway to the host',
    inNamespace(attachment.netns, [networkTool('ip'), '-batch', '-']),
    {
      stdin: [
        `link set ${dev} mtu ${slirpMtu} up`,
        `addr add ${guestAddress}/32 dev ${dev}`,
        `route add ${hostGatewayAddress}/32 dev ${dev} src ${guestAddress}`,
        '',
      ].join('\n'),
    },
  );
}
