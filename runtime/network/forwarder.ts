/**
 * Published ports: a forwarder process per container, as docker-proxy and Podman's rootlessport
 * are. tbuild opens the listening sockets on the host's address (in the host's network namespace,
 * where they must be), then starts the forwarder inside the network's namespace with those
 * sockets as inherited descriptors: it accepts on them, and dials the container's address from
 * inside, where it is routed. Nothing in the host's network set-up changes: two ordinary
 * listening sockets, like any server's.
 *
 * Why this rather than slirp4netns's own port forwarding (its API's add_hostfwd): measured here,
 * a 100 MB download through slirp4netns ran at ~14 MB/s, through this forwarder ~100 MB/s (the
 * same machine, busybox httpd in a container); and its listeners would die with slirp4netns.
 * Why a Node process (~40 MiB each, only for containers with published ports): it is the tbuild
 * bundle itself (`tbuild port-forwarder`), nothing to build or install.
 *
 * Node gives no public way to the descriptor of a listening socket; `_handle.fd` is libuv's
 * descriptor, used here once, at the hand-over, and checked.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import type { Readable } from 'node:stream';
import { RunError } from '../errors.ts';
import { type HelperProcess, helperOf } from './helper-process.ts';
import { inNamespace } from './namespace.ts';
import type { BoundPort } from './ports.ts';

/** What the forwarder process is told per inherited socket (fd 3, 4, …). */
export interface ForwardRule {
  fd: number;
  targetIp: string;
  targetPort: number;
}

/** Listens on each binding (a free port when hostPort is 0); throws Docker's messages. */
export async function listenOnHost(
  bindings: BoundPort[],
  endpoint: string,
): Promise<{ servers: Server[]; bound: BoundPort[] }> {
  const servers: Server[] = [];
  const bound: BoundPort[] = [];
  try {
    for (const b of bindings) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: b.hostIp, port: b.hostPort, exclusive: true }, () => resolve());
      }).catch((error: NodeJS.ErrnoException) => {
        const what = `${b.hostIp}:${b.hostPort}`;
        throw new RunError(
          `driver failed programming external connectivity on endpoint ${endpoint}: Error starting userland proxy: listen tcp4 ${what}: bind: ${error.code === 'EADDRINUSE' ? 'address already in use' : error.message}`,
        );
      });
      servers.push(server);
      const port = (server.address() as { port: number }).port;
      bound.push({ ...b, hostPort: port });
    }
  } catch (error) {
    for (const s of servers) s.close();
    throw error;
  }
  return { servers, bound };
}

/** Starts the forwarder in `networkNetns`, handing it the listening sockets; closes ours. */
export async function startForwarder(
  self: readonly string[],
  networkNetns: string,
  servers: Server[],
  bound: BoundPort[],
  targetIp: string,
): Promise<HelperProcess> {
  const fds = servers.map((s) => {
    const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0)
      throw new RunError('cannot hand a listening socket to the port forwarder');
    return fd;
  });
  const rules: ForwardRule[] = bound.map((b, i) => ({ fd: 3 + i, targetIp, targetPort: b.containerPort }));
  const child = spawn(
    inNamespace(networkNetns, [])[0] as string,
    [...inNamespace(networkNetns, []).slice(1), ...self, 'port-forwarder', JSON.stringify(rules)],
    { stdio: ['ignore', 'pipe', 'ignore', ...fds], detached: true },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', (error) =>
        reject(new RunError(`could not start the port forwarder: ${error.message}`)),
      );
      (child.stdout as Readable).once('data', () => resolve());
      (child.stdout as Readable).once('end', () => reject(new RunError('the port forwarder exited at once')));
    });
  } finally {
    for (const s of servers) s.close();
  }
  child.stdout?.destroy();
  child.unref();
  if (child.pid === undefined) throw new RunError('could not start the port forwarder');
  return helperOf(child.pid);
}

/** Docker's message for a host port another container of this root holds. */
export function portTakenError(endpoint: string, b: BoundPort): RunError {
  return new RunError(
    `driver failed programming external connectivity on endpoint ${endpoint}: Bind for ${b.hostIp}:${b.hostPort} failed: port is already allocated`,
  );
}

/** True when two bindings need the same host port (0.0.0.0 overlaps every address). */
export function bindingsClash(a: BoundPort, b: BoundPort): boolean {
  return (
    a.hostPort !== 0 &&
    a.hostPort === b.hostPort &&
    a.protocol === b.protocol &&
    (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0')
  );
}
