/**
 * Published ports: a forwarder process per container, as docker-proxy and Podman's rootlessport
 * are. tbuild opens the listening sockets on the host's address (host-listen.ts, in the host's
 * network namespace, where they must be), then starts the forwarder inside the network's
 * namespace with those sockets as inherited descriptors: it accepts (TCP) or receives (UDP) on
 * them, and sends on to the container's address from inside, where it is routed. Nothing in the
 * host's network set-up changes: ordinary listening sockets, like any server's.
 *
 * Why this rather than slirp4netns's own port forwarding (its API's add_hostfwd): measured here,
 * a 100 MB download through slirp4netns ran at ~14 MB/s, through this forwarder ~100 MB/s (the
 * same machine, busybox httpd in a container); and its listeners would die with slirp4netns.
 * Why a Node process (~40 MiB each, only for containers with published ports): it is the tbuild
 * bundle itself (`tbuild port-forwarder`), nothing to build or install.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { RunError } from '../errors.ts';
import { type HelperProcess, helperOf } from './helper-process.ts';
import type { HostListener } from './host-listen.ts';
import { inNamespace } from './namespace.ts';
import type { BoundPort } from './ports.ts';

/** What the forwarder process is told per inherited socket (fd 3, 4, …). */
export interface ForwardRule {
  fd: number;
  protocol: 'tcp' | 'udp';
  /** The host address the socket is bound to (its family is the socket's). */
  hostIp: string;
  targetIp: string;
  targetPort: number;
}

/**
 * Starts the forwarder in `networkNetns`, handing it the listening sockets; closes ours once it
 * has them. Its argv names the container's namespace file (`owner`), by which a forwarder whose
 * pid was never recorded is found (stopStrayHelpers).
 */
export async function startForwarder(
  self: readonly string[],
  networkNetns: string,
  owner: string,
  listeners: HostListener[],
  bound: BoundPort[],
  targetIp: string,
): Promise<HelperProcess> {
  const rules: ForwardRule[] = bound.map((b, i) => ({
    fd: 3 + i,
    protocol: b.protocol,
    hostIp: b.hostIp,
    targetIp,
    targetPort: b.containerPort,
  }));
  const [command, ...args] = inNamespace(networkNetns, [
    ...self,
    'port-forwarder',
    JSON.stringify(rules),
    owner,
  ]);
  const child = spawn(command as string, args, {
    stdio: ['ignore', 'pipe', 'ignore', ...listeners.map((l) => l.fd)],
    detached: true,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new RunError(`could not start the port forwarder: ${error.message}`)),
      );
      (child.stdout as Readable).once('data', () => resolve());
      (child.stdout as Readable).once('end', () => reject(new RunError('the port forwarder exited at once')));
    });
  } finally {
    for (const l of listeners) l.close();
  }
  child.stdout?.destroy();
  child.unref();
  if (child.pid === undefined) throw new RunError('could not start the port forwarder');
  return helperOf(child.pid);
}
