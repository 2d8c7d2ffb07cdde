/**
 * Bridges, veth pairs, addresses, routes, NAT and container DNS by netavark and aardvark-dns
 * (Podman's network stack, Debian packages `netavark` 1.4 and `aardvark-dns` 1.4), run inside the
 * network's own namespace: netavark takes the namespace it runs in as "the host", so the bridge,
 * the host end of each veth pair, the MASQUERADE rules and aardvark-dns all land in tbuild's
 * namespace, never in the host's.
 *
 * Why netavark rather than the CNI plugins (containernetworking-plugins 1.1 is in Debian too):
 * container DNS by name and by `--network-alias` is built in (aardvark-dns, maintained with it),
 * where CNI needs the dnsname plugin, which is unmaintained since 2023 and keeps its dnsmasq state
 * under a fixed /run/containers/cni/dnsname, shared by every root; netavark takes its state
 * directory as an argument. Addresses are ours (ipam.ts): netavark takes static IPs, as Podman
 * gives it.
 *
 * Two of netavark's habits would reach out of the namespace, and are cut off here:
 *  - when firewalld runs, netavark 1.4 adds each subnet to the host firewalld's trusted zone over
 *    D-Bus (even with the iptables driver): the system bus address is pointed at nothing;
 *  - when systemd runs (/run/systemd/system), it starts aardvark-dns with `systemd-run --scope`,
 *    a unit on the host's systemd: it runs in a private mount namespace where /run/systemd is an
 *    empty tmpfs, so it sees no systemd and starts aardvark-dns as its own child.
 */
import { inNamespace } from './namespace.ts';
import { mustRunTool, networkTool } from './tools.ts';

/** One network of a container, as netavark takes it. */
export interface NetavarkNetwork {
  name: string;
  id: string;
  /** The bridge's name inside the network's namespace. */
  bridge: string;
  subnet: string;
  gateway: string;
  internal: boolean;
  dns: boolean;
  /** The container's address on it. */
  ip: string;
  /** Names it answers to on this network (container name, aliases, short id). */
  aliases: string[];
  /** eth0, eth1, … inside the container. */
  interfaceName: string;
}

export interface NetavarkRequest {
  /** The network's namespace file, where netavark runs. */
  networkNetns: string;
  /** netavark's --config: aardvark-dns's state for this network. */
  configDir: string;
  /** The container's namespace file. */
  containerNetns: string;
  containerId: string;
  containerName: string;
  network: NetavarkNetwork;
}

/** What netavark set up: the interface's MAC address and the DNS servers to give the container. */
export interface NetavarkResult {
  macAddress: string;
  dnsServers: string[];
}

/** `netavark setup`: the container joins the network. */
export async function netavarkSetup(request: NetavarkRequest): Promise<NetavarkResult> {
  const out = await mustRunTool(
    `could not connect the container to network ${request.network.name}`,
    command(request, 'setup'),
    { stdin: JSON.stringify(options(request)), env: netavarkEnv() },
  );
  const status = (JSON.parse(out) as Record<string, NetavarkStatus>)[request.network.name];
  const iface = status?.interfaces?.[request.network.interfaceName];
  return { macAddress: iface?.mac_address ?? '', dnsServers: status?.dns_server_ips ?? [] };
}

/** `netavark teardown`: the veth pair, the DNS entry and the firewall rules of this container go. */
export async function netavarkTeardown(request: NetavarkRequest): Promise<void> {
  await mustRunTool(
    `could not disconnect the container from network ${request.network.name}`,
    command(request, 'teardown'),
    { stdin: JSON.stringify(options(request)), env: netavarkEnv() },
  );
}

interface NetavarkStatus {
  interfaces?: Record<string, { mac_address?: string }>;
  dns_server_ips?: string[];
}

/** netavark's network options (Podman's types.NetworkOptions, netavark 1.4 src/network/types.rs). */
function options(request: NetavarkRequest) {
  const { network } = request;
  return {
    container_id: request.containerId,
    container_name: request.containerName,
    port_mappings: [],
    networks: {
      [network.name]: {
        static_ips: [network.ip],
        aliases: network.aliases,
        interface_name: network.interfaceName,
        static_mac: macFromIp(network.ip),
      },
    },
    network_info: {
      [network.name]: {
        name: network.name,
        id: network.id,
        driver: 'bridge',
        network_interface: network.bridge,
        subnets: [{ subnet: network.subnet, gateway: network.gateway }],
        ipv6_enabled: false,
        internal: network.internal,
        dns_enabled: network.dns,
        ipam_options: { driver: 'host-local' },
      },
    },
  };
}

/**
 * Docker's MAC address for a container address (libnetwork netutils.GenerateMACFromIP): 02:42
 * and the four bytes of the IPv4 address. Not netavark's random one: an address given again to
 * a new container keeps its MAC, so the network namespace's neighbour cache, still holding the
 * old container's entry, stays right (a random MAC left UDP to the new container unanswered for
 * the seconds the stale entry took to be probed and replaced).
 */
export function macFromIp(ip: string): string {
  const bytes = ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'));
  return ['02', '42', ...bytes].join(':');
}

/** The command: the network's namespace, a private mount namespace without systemd, netavark. */
function command(request: NetavarkRequest, verb: 'setup' | 'teardown'): string[] {
  const hideSystemd =
    'if [ -d /run/systemd ]; then mount -t tmpfs -o size=4k,mode=755 tbuild-no-systemd /run/systemd || exit 125; fi; exec "$@"';
  return inNamespace(request.networkNetns, [
    networkTool('unshare'),
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    hideSystemd,
    'sh',
    networkTool('netavark'),
    '--config',
    request.configDir,
    '--aardvark-binary',
    networkTool('aardvark-dns'),
    verb,
    request.containerNetns,
  ]);
}

function netavarkEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The iptables driver, inside the namespace; never firewalld's D-Bus API (see the file comment).
    NETAVARK_FW: 'iptables',
    DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/nonexistent/tbuild-no-system-bus',
    RUST_LOG: 'error',
  };
}
